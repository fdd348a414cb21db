// Discovery and JWKS: served from memory (the JWKS from the key store's snapshot), cacheable.
import type { FastifyInstance } from 'fastify'
import { DISCOVERY_PATH, discoveryDocument, ENDPOINTS } from '../../oauth/discovery.ts'

export default async function discoveryRoutes(app: FastifyInstance) {
  const document = JSON.stringify(discoveryDocument(app.oauth.issuer))
  app.get(DISCOVERY_PATH, (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=3600')
      .header('access-control-allow-origin', '*')
      .type('application/json')
      .send(document),
  )
  app.get(ENDPOINTS.jwks, (request, reply) => {
    const { body, etag } = app.oauth.keys.jwks()
    reply.header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*').header('etag', etag)
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('application/jwk-set+json').send(body)
  })
}
