// `reply.page(name, data)`: renders an HTML page with the layout's data filled in (CSRF token,
// current user) and headers that keep pages with forms and personal data out of caches.
import fp from 'fastify-plugin'
import type { FastifyReply } from 'fastify'
import { renderPage, stylesheet } from '../views/render.ts'

declare module 'fastify' {
  interface FastifyReply {
    page(name: string, data: { title: string } & Record<string, unknown>): FastifyReply
  }
}

export default fp(
  async (app) => {
    app.decorateReply('page', function (this: FastifyReply, name: string, data: { title: string } & Record<string, unknown>) {
      const auth = this.request.auth
      const html = renderPage(name, {
        csrfToken: this.generateCsrf(),
        user: auth ? { displayName: auth.user.displayName } : null,
        ...data,
      })
      return this.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
    })

    app.get(stylesheet.url, (_request, reply) =>
      reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/css; charset=utf-8').send(stylesheet.body),
    )
  },
  { name: 'plusid-views', dependencies: ['plusid-security', 'plusid-session'] },
)
