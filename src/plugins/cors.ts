// CORS for browser apps (spa channels): the endpoints such an app calls from its own origin —
// token, userinfo, revoke, verify, /v2/profile — answer cross-origin requests, preflights
// included, for the origins of registered spa callback URLs, and for no other. The
// authorization endpoint never does: a browser is sent there, it is not fetched.
//
// Written here rather than with @fastify/cors: that plugin answers preflights with a route for
// every path (`OPTIONS *`), authorization included, and lets refused preflights through as 204s;
// here only the listed paths have an OPTIONS route, and a refused preflight is a 403.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Executor } from '../storage/database.ts'
import { listSpaCallbackUrls } from '../storage/channels.ts'

/** How long the known origins are trusted before they are read again. */
const REFRESH_MS = 30_000
/** An origin not known yet triggers a new read at most this often (a channel registered just now). */
const UNKNOWN_RETRY_MS = 2_000
/** Browsers may cache a granted preflight this long. */
const PREFLIGHT_MAX_AGE_SECONDS = 600

/**
 * The origins of spa callback URLs, kept in memory: a request with an Origin header costs no
 * round trip unless the set is older than REFRESH_MS or the origin is new to this process.
 */
export class SpaOrigins {
  private origins = new Set<string>()
  private loadedAt = -Infinity
  private loading: Promise<void> | null = null

  constructor(
    private readonly db: Executor,
    private readonly now = () => Date.now(),
  ) {}

  async allows(origin: string): Promise<boolean> {
    const age = this.now() - this.loadedAt
    if (age > REFRESH_MS || (!this.origins.has(origin) && age > UNKNOWN_RETRY_MS)) await this.load()
    return this.origins.has(origin)
  }

  private load(): Promise<void> {
    // Requests arriving together share one read.
    this.loading ??= listSpaCallbackUrls(this.db)
      .then((urls) => {
        this.origins = new Set(urls.flatMap((url) => originOf(url) ?? []))
        this.loadedAt = this.now()
      })
      .finally(() => {
        this.loading = null
      })
    return this.loading
  }
}

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}

export interface BrowserCorsOptions {
  /** Path → the methods a browser app may use there. */
  paths: Record<string, ('GET' | 'POST')[]>
  origins: SpaOrigins
}

/** Adds the CORS headers to the listed paths (errors included) and their preflight routes. */
export function registerBrowserCors(app: FastifyInstance, { paths, origins }: BrowserCorsOptions): void {
  const allowOrigin = (reply: FastifyReply, origin: string) => reply.header('access-control-allow-origin', origin).header('vary', 'Origin')

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin
    if (request.method === 'OPTIONS' || typeof origin !== 'string' || !(request.routeOptions.url! in paths)) return
    reply.header('vary', 'Origin')
    if (await origins.allows(origin)) {
      // The SPA reads RFC 6750's challenge on a 401 and Retry-After on a 503/429.
      allowOrigin(reply, origin).header('access-control-expose-headers', 'WWW-Authenticate, Retry-After')
    }
  })

  for (const [path, methods] of Object.entries(paths)) {
    app.options(path, async (request, reply) => {
      const origin = request.headers.origin
      const method = request.headers['access-control-request-method']
      const allowed =
        typeof origin === 'string' &&
        typeof method === 'string' &&
        methods.includes(method as 'GET' | 'POST') &&
        (await origins.allows(origin))
      if (!allowed) return reply.code(403).header('vary', 'Origin').header('cache-control', 'no-store').send()
      return allowOrigin(reply.code(204), origin)
        .header('access-control-allow-methods', methods.join(', '))
        .header('access-control-allow-headers', 'Authorization, Content-Type')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
        .send()
    })
  }
}
