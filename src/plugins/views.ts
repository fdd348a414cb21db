// `reply.page(name, data)`: renders an HTML page with the layout's data filled in (CSRF token,
// current user, language) and headers that keep pages with forms and personal data out of caches.
// Also the page's language (`request.locale`, `request.t`) and the language switch.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { chooseLocale, formatChoice, parseChoice, translate, type Locale, type MessageKey, type MessageParams } from '../i18n/index.ts'
import { renderPage, scripts, stylesheet } from '../views/render.ts'
import { contentSecurityPolicy, cookieName } from './security.ts'
import { safeNextPath } from './session.ts'

export interface PageOptions {
  /** Origins the page's form may end up at after redirects (a channel's callback URL). */
  formAction?: readonly string[]
  /** Allow our own script file (the form_post page only). */
  script?: boolean
  /** An image URL the page shows from another origin (the channel's icon on the consent page). */
  image?: string | null
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The language of the pages this request renders (see chooseLocale). */
    locale: Locale
    /** The page the language switch returns to, when not the request's own URL (a form post, a refused authorization). */
    pagePath: string | null
    t(key: MessageKey, params?: MessageParams): string
    /** Inside an authorization: its ui_locales decide the language (see chooseLocale). */
    useAuthorizationLocale(uiLocales: string | undefined, startedAt: Date): void
  }
  interface FastifyReply {
    page(name: string, data: { title: string } & Record<string, unknown>, options?: PageOptions): FastifyReply
  }
}

const ONE_YEAR = 365 * 24 * 3600

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const languageCookie = cookieName(config, 'plusid_lang')
    const choiceOf = (request: FastifyRequest) => parseChoice(request.cookies[languageCookie])
    const acceptLanguage = (request: FastifyRequest) => {
      const header = request.headers['accept-language']
      return typeof header === 'string' ? header : undefined
    }

    app.decorateRequest('locale', 'ja')
    app.decorateRequest('pagePath', null)
    app.decorateRequest('t', function (this: FastifyRequest, key: MessageKey, params?: MessageParams) {
      return translate(this.locale, key, params)
    })
    app.decorateRequest('useAuthorizationLocale', function (this: FastifyRequest, uiLocales: string | undefined, startedAt: Date) {
      this.locale = chooseLocale({ choice: choiceOf(this), acceptLanguage: acceptLanguage(this), authorization: { uiLocales, startedAt } })
    })
    // Cheap (a cookie and a header, no database): every request knows its language from the start.
    app.addHook('onRequest', async (request) => {
      request.locale = chooseLocale({ choice: choiceOf(request), acceptLanguage: acceptLanguage(request) })
    })

    app.decorateReply(
      'page',
      function (this: FastifyReply, name: string, data: { title: string } & Record<string, unknown>, options: PageOptions = {}) {
        if (options.formAction || options.script || options.image) this.header('content-security-policy', contentSecurityPolicy(options))
        const request = this.request
        const auth = request.auth
        // A page answering a form post links the switch to the form's page, not to the post.
        const here = request.pagePath ?? (request.method === 'GET' ? request.url : request.url.split('?')[0]!)
        const html = renderPage(name, {
          csrfToken: this.generateCsrf(),
          user: auth ? { displayName: auth.user.displayName, isAdmin: auth.user.isAdmin } : null,
          locale: request.locale,
          here,
          ...data,
        })
        // Pages differ by cookie and Accept-Language; no-store keeps every cache out anyway.
        return this.header('cache-control', 'no-store')
          .header('content-language', request.locale)
          .type('text/html; charset=utf-8')
          .send(html)
      },
    )

    // The language switch: a plain link (no script), remembered for a year, back to the same page.
    app.get('/language', async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const next = safeNextPath(query.next) ?? '/'
      if (query.lang !== 'ja' && query.lang !== 'en') return reply.redirect(next, 303)
      reply.setCookie(languageCookie, formatChoice(query.lang, new Date()), {
        path: '/',
        sameSite: 'lax',
        httpOnly: true,
        secure: config.secureCookies,
        maxAge: ONE_YEAR,
      })
      return reply.header('cache-control', 'no-store').redirect(next, 303)
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
