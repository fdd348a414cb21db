# plusid server image. Build: docker build -t plusid .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY scripts/build.js ./scripts/build.js
# The server runs as plain JavaScript: bundled here once, not transpiled at every start.
RUN node scripts/build.js
RUN mkdir -p /home/node/data && chown node:node /home/node/data
USER node
ENV PORT=3000 HOST=0.0.0.0 DATA_DIR=/home/node/data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server.js"]
