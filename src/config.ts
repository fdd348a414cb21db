// The only module that reads process.env. Every variable is validated at once, so a bad start
// reports all problems in one message, each naming the variable and what is wrong with it.
import { isIP } from 'node:net'
import path from 'node:path'
import { z } from 'zod'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export interface Config {
  /** The issuer and the base of every URL plusid prints; no trailing slash. */
  readonly publicUrl: string
  readonly host: string
  readonly port: number
  /** PostgreSQL server; undefined means the embedded PGlite database in dataDir. */
  readonly databaseUrl: string | undefined
  readonly dataDir: string
  /** 32 bytes, from PLUSID_MASTER_KEY; undefined means "generate or read DATA_DIR/master.key". */
  readonly masterKey: Buffer | undefined
  readonly logLevel: (typeof LOG_LEVELS)[number]
  readonly redisUrl: string | undefined
  readonly sessionTtlSeconds: number
  /** Absolute session lifetime from the login, however the session is used (README, Security). */
  readonly sessionMaxAgeSeconds: number
  /** Lifetimes of what the protocol issues (docs/protocol.md). */
  readonly authorizationCodeTtlSeconds: number
  readonly accessTokenTtlSeconds: number
  readonly refreshTokenTtlSeconds: number
  /** How often expired rows are deleted, and how often rotated signing keys are looked for. */
  readonly cleanupIntervalSeconds: number
  readonly keyRefreshSeconds: number
  /** Per-IP limits (security/rate-limits.ts). */
  readonly loginsPerIpPerMinute: number
  readonly registrationsPerIpPerHour: number
  readonly tokenFailuresPerIpPerMinute: number
  readonly anonymousAuthorizationsPerIpPerMinute: number
  /** Serve GET /metrics (Prometheus text) on the main port. */
  readonly metrics: boolean
  /**
   * Which proxies' X-Forwarded-For to believe (README, Security: Client IP): false (none: the client IP
   * is the connection's), a number of hops, or the proxies' addresses and CIDRs.
   */
  readonly trustProxy: false | number | readonly string[]
  /** Derived from publicUrl: https means Secure, `__Host-` cookies and HSTS. */
  readonly secureCookies: boolean
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value)

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value)
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash
    } catch {
      return false
    }
  },
  { message: 'must be an absolute http:// or https:// URL without query or fragment' },
)

const urlWithScheme = (schemes: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol)
      } catch {
        return false
      }
    },
    { message: `must be a URL such as ${example}` },
  )

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be a whole number between ${min} and ${max}` })

const masterKey = z.string().transform((value, ctx) => {
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9_-]{43}=?$/.test(value)
      ? Buffer.from(value.replace(/=$/, ''), 'base64url')
      : undefined
  if (!key || key.length !== 32) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be 32 random bytes written as 64 hex characters or 43 base64url characters (make one with `openssl rand -hex 32`)',
    })
    return z.NEVER
  }
  return key
})

const boolean = z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1')

// The named ranges proxy-addr (Fastify's trustProxy) understands, besides addresses and CIDRs.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])
const proxyEntry = (entry: string): boolean => {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address, bits, extra] = entry.split('/')
  const family = isIP(address ?? '')
  if (family === 0 || extra !== undefined) return false
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
}
/**
 * TRUST_PROXY: a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs. `true`
 * (believe every hop) is refused: the leftmost X-Forwarded-For address is the client's own choice,
 * so per-IP limits and the audit log's addresses would be the attacker's to pick.
 */
const trustProxy = z.string().transform((value, ctx): false | number | string[] => {
  const text = value.trim()
  if (text === 'false' || text === '0') return false
  if (/^\d{1,2}$/.test(text)) return Number(text)
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (text !== 'true' && entries.length > 0 && entries.every(proxyEntry)) return entries
  ctx.addIssue({
    code: 'custom',
    message:
      text === 'true'
        ? 'must say which proxies to trust: the number of proxy hops in front of plusid (1 behind one reverse proxy) or their addresses/CIDRs; `true` would believe any X-Forwarded-For a client sends'
        : 'must be false, a number of proxy hops (such as 1), or a comma-separated list of proxy addresses or CIDRs (such as 10.0.0.0/8,192.168.1.7)',
  })
  return z.NEVER
})

const Env = z.object({
  PUBLIC_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  PORT: z.preprocess(emptyToUndefined, integer(0, 65535).optional()),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    urlWithScheme(['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/plusid').optional(),
  ),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  PLUSID_MASTER_KEY: z.preprocess(emptyToUndefined, masterKey.optional()),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info')),
  REDIS_URL: z.preprocess(emptyToUndefined, urlWithScheme(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').optional()),
  SESSION_TTL_SECONDS: z.preprocess(emptyToUndefined, integer(60, 365 * 24 * 3600).default(14 * 24 * 3600)),
  SESSION_MAX_AGE_SECONDS: z.preprocess(emptyToUndefined, integer(60, 365 * 24 * 3600).default(30 * 24 * 3600)),
  AUTHORIZATION_CODE_TTL_SECONDS: z.preprocess(emptyToUndefined, integer(10, 600).default(60)),
  ACCESS_TOKEN_TTL_SECONDS: z.preprocess(emptyToUndefined, integer(60, 90 * 24 * 3600).default(30 * 24 * 3600)),
  REFRESH_TOKEN_TTL_SECONDS: z.preprocess(emptyToUndefined, integer(60, 365 * 24 * 3600).default(90 * 24 * 3600)),
  CLEANUP_INTERVAL_SECONDS: z.preprocess(emptyToUndefined, integer(1, 24 * 3600).default(600)),
  KEY_REFRESH_SECONDS: z.preprocess(emptyToUndefined, integer(1, 3600).default(60)),
  METRICS: z.preprocess(emptyToUndefined, boolean.default(false)),
  LOGINS_PER_IP_PER_MINUTE: z.preprocess(emptyToUndefined, integer(1, 1_000_000).default(30)),
  REGISTRATIONS_PER_IP_PER_HOUR: z.preprocess(emptyToUndefined, integer(1, 1_000_000).default(10)),
  TOKEN_FAILURES_PER_IP_PER_MINUTE: z.preprocess(emptyToUndefined, integer(1, 1_000_000).default(60)),
  ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE: z.preprocess(emptyToUndefined, integer(1, 1_000_000).default(120)),
  TRUST_PROXY: z.preprocess(emptyToUndefined, trustProxy.default(false)),
})

/** Values of these variables are never echoed back in an error message. */
const SECRET_VARIABLES = new Set(['PLUSID_MASTER_KEY', 'DATABASE_URL', 'REDIS_URL'])

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = Env.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0])
      const value = env[name]
      const shown = value === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(value)})`
      return `${name} ${issue.message}${shown}`
    })
    throw new ConfigError(problems)
  }
  const e = parsed.data
  const port = e.PORT ?? 3000
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '')
  return Object.freeze({
    publicUrl,
    host: e.HOST,
    port,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    masterKey: e.PLUSID_MASTER_KEY,
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    sessionMaxAgeSeconds: e.SESSION_MAX_AGE_SECONDS,
    authorizationCodeTtlSeconds: e.AUTHORIZATION_CODE_TTL_SECONDS,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    cleanupIntervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
    keyRefreshSeconds: e.KEY_REFRESH_SECONDS,
    metrics: e.METRICS,
    loginsPerIpPerMinute: e.LOGINS_PER_IP_PER_MINUTE,
    registrationsPerIpPerHour: e.REGISTRATIONS_PER_IP_PER_HOUR,
    tokenFailuresPerIpPerMinute: e.TOKEN_FAILURES_PER_IP_PER_MINUTE,
    anonymousAuthorizationsPerIpPerMinute: e.ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE,
    trustProxy: Array.isArray(e.TRUST_PROXY) ? Object.freeze([...e.TRUST_PROXY]) : e.TRUST_PROXY,
    secureCookies: publicUrl.startsWith('https:'),
  })
}
