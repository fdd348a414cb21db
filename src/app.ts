// buildApp(config, database): the whole plusid HTTP application as a Fastify instance that does
// not listen. The server entry listens; tests build their own and call inject().
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import { loggerOptions } from './logger.ts'
import databasePlugin from './plugins/database.ts'
import securityPlugin, { BODY_LIMIT_BYTES, HEADER_LIMIT_BYTES } from './plugins/security.ts'
import sessionPlugin from './plugins/session.ts'
import viewsPlugin from './plugins/views.ts'
import accountPages from './routes/account.ts'
import accountRoutes from './routes/accounts.ts'
import healthRoutes from './routes/health.ts'
import type { Database } from './storage/database.ts'
import type { Logger } from 'pino'
import oauthPlugin from './plugins/oauth.ts'
import { installKeyring } from './storage/data-keys.ts'
import { sealClearPairwiseSecrets } from './storage/channels.ts'
import type { KeyStore } from './oauth/keys.ts'
import oauthRoutes from './routes/oauth/index.ts'
import authorizeRoutes from './routes/authorize.ts'
import interactionRoutes from './routes/interaction.ts'
import endSessionRoutes from './routes/end-session.ts'
import metricsPlugin from './plugins/metrics.ts'
import consoleRoutes from './routes/console/index.ts'
import adminRoutes from './routes/admin/index.ts'
import myDataRoutes from './routes/my-data.ts'
import invitationRoutes from './routes/invitations.ts'
import rateLimitsPlugin from './plugins/rate-limits.ts'
import { limitsFrom, postgresRateLimits } from './security/rate-limits.ts'
import { redisRateLimits } from './security/redis-rate-limits.ts'
import { isUnavailable, RETRY_AFTER_SECONDS } from './storage/unavailable.ts'
import type { MessageKey } from './i18n/index.ts'
import swagger from '@fastify/swagger'
import { describeRoutes, openapiInfo } from './http/openapi.ts'

export interface AppOptions {
  database: Database
  /** Close the database when the app closes (the server owns its database; tests share one). */
  closeDatabase?: boolean
  /** A pino logger to use; otherwise one is made from the config. */
  logger?: Logger
  /** 32 bytes: encrypts signing keys and HS256 channel secrets (see master-key.ts). */
  masterKey: Buffer
  /** Signing keys already loaded (tests share one store); otherwise opened from the database. */
  keys?: KeyStore
  /** Check the database for rotated keys this often (the server: every minute). */
  refreshKeysEveryMs?: number
  /** Prefix of the Redis counter keys when REDIS_URL is set (tests: one per file); default `plusid:`. */
  redisKeyPrefix?: string
}

export async function buildApp(config: Config, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config) }),
    // Only the configured hops or proxy addresses are believed (config.ts, TRUST_PROXY).
    // A hop count n trusts the n nearest hops (the address at hop i is believed while i < n).
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy === false
          ? false
          : [...config.trustProxy],
    // Fastify answers 400 to a body that is not what its content type says, 413 to one too large.
    bodyLimit: BODY_LIMIT_BYTES,
    http: { maxHeaderSize: HEADER_LIMIT_BYTES },
    // Requests already running finish on close; idle keep-alive connections are closed at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  }) as unknown as FastifyInstance

  // Emails and Profile+ values are sealed under data keys the master key unwraps (crypto/keyring.ts).
  const ring = await installKeyring(options.database.db, options.masterKey)
  // Providers made before pairwise secrets were sealed get theirs sealed now (idempotent).
  await sealClearPairwiseSecrets(options.database.db)
  if (options.refreshKeysEveryMs) {
    const stop = ring.startAutoRefresh(options.refreshKeysEveryMs, (error) => app.log.warn({ err: error }, 'reloading data keys failed'))
    app.addHook('onClose', async () => stop())
  }
  await app.register(databasePlugin, { database: options.database, closeWithApp: options.closeDatabase ?? false })
  await app.register(securityPlugin, { config })
  await app.register(sessionPlugin, { config })
  // The counters live in Redis when it is configured (shared by every process either way).
  const counters = config.redisUrl
    ? await redisRateLimits(config.redisUrl, { log: app.log, ...(options.redisKeyPrefix ? { keyPrefix: options.redisKeyPrefix } : {}) })
    : postgresRateLimits(options.database.db)
  await app.register(rateLimitsPlugin, { limits: limitsFrom(config), store: counters })
  await app.register(viewsPlugin, { config })
  await app.register(oauthPlugin, {
    config,
    masterKey: options.masterKey,
    ...(options.keys ? { keys: options.keys } : {}),
    ...(options.refreshKeysEveryMs ? { refreshKeysEveryMs: options.refreshKeysEveryMs } : {}),
  })

  // HTML pages. A store that cannot be reached (isUnavailable: the one place connection errors are
  // classified) gives a plain 503 page; the protocol's JSON scopes answer temporarily_unavailable.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, 'request refused: a store is unreachable')
      const t = request.t.bind(request)
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .page('error', {
          title: t('errors.unavailableTitle'),
          heading: t('errors.unavailableHeading'),
          message: t('errors.unavailableMessage'),
        })
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: error.code, status }, 'request refused')
    const { heading, message } = describeError(status, error.code)
    const t = request.t.bind(request)
    return reply
      .code(status)
      .page('error', { title: t(heading), heading: t(heading), message: t(message), link: { href: '/', label: t('common.backToPlusid') } })
  })
  app.setNotFoundHandler((request, reply) => {
    const t = request.t.bind(request)
    return reply.code(404).page('error', {
      title: t('errors.notFoundTitle'),
      heading: t('errors.notFoundHeading'),
      message: t('errors.notFoundMessage'),
      link: { href: '/', label: t('common.backToPlusid') },
    })
  })

  if (config.metrics) await app.register(metricsPlugin, { database: options.database })
  // The JSON endpoints' descriptions become their route schemas; /openapi.json is built from them.
  describeRoutes(app)
  await app.register(swagger, openapiInfo(config.publicUrl))
  app.get('/openapi.json', (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').header('access-control-allow-origin', '*').send(app.swagger()),
  )
  await app.register(healthRoutes)
  await app.register(accountRoutes, { config })
  await app.register(accountPages, { config })
  await app.register(myDataRoutes, { config })
  await app.register(invitationRoutes)
  await app.register(authorizeRoutes, { config })
  await app.register(interactionRoutes, { config })
  await app.register(endSessionRoutes)
  await app.register(consoleRoutes, { masterKey: options.masterKey })
  await app.register(adminRoutes, { isUnavailable, retryAfterSeconds: RETRY_AFTER_SECONDS })
  await app.register(oauthRoutes)
  return app
}

function describeError(status: number, code: string | undefined): { heading: MessageKey; message: MessageKey } {
  if (code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET')
    return { heading: 'errors.csrfHeading', message: 'errors.csrfMessage' }
  if (code === 'PLUSID_BAD_CURSOR') return { heading: 'admin.badCursorHeading', message: 'admin.badCursorMessage' }
  if (status === 413) return { heading: 'errors.tooLargeHeading', message: 'errors.tooLargeMessage' }
  if (status === 415) return { heading: 'errors.unsupportedHeading', message: 'errors.unsupportedMessage' }
  if (status < 500) return { heading: 'errors.badRequestHeading', message: 'errors.badRequestMessage' }
  return { heading: 'errors.serverHeading', message: 'errors.serverMessage' }
}
