// `reply.page(name, data)`: renders an HTML page with the layout's data filled in (CSRF token,
// current user) and headers that keep pages with forms and personal data out of caches.
import fp from 'fastify-plugin'
import type { FastifyReply } from 'fastify'
import { renderPage, scripts, stylesheet } from '../views/render.ts'
import { contentSecurityPolicy } from './security.ts'

export interface PageOptions {
  /** Origins the page's form may end up at after redirects (a channel's callback URL). */
  formAction?: readonly string[]
  /** Allow our own script file (the form_post page only). */
  script?: boolean
}

declare module 'fastify' {
  interface FastifyReply {
    page(name: string, data: { title: string } & Record<string, unknown>, options?: PageOptions): FastifyReply
  }
}

export default fp(
  async (app) => {
    app.decorateReply('page', function (this: FastifyReply, name: string, data: { title: string } & Record<string, unknown>, options: PageOptions = {}) {
      if (options.formAction || options.script) this.header('content-security-policy', contentSecurityPolicy(options))
      const auth = this.request.auth
      const html = renderPage(name, {
        csrfToken: this.generateCsrf(),
        user: auth ? { displayName: auth.user.displayName } : null,
        ...data,
      })
      return this.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
    })

    for (const script of Object.values(scripts)) {
      app.get(script.url, (_request, reply) =>
        reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8').send(script.body),
      )
    }
    // Browsers ask for it on every site; an empty answer keeps their consoles free of 404s.
    app.get('/favicon.ico', (_request, reply) => reply.header('cache-control', 'public, max-age=86400').code(204).send())
    app.get(stylesheet.url, (_request, reply) =>
      reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/css; charset=utf-8').send(stylesheet.body),
    )
  },
  { name: 'plusid-views', dependencies: ['plusid-security', 'plusid-session'] },
)
