// The rate-limit and lockout counters in Redis (REDIS_URL), with the same rules and the same
// answers as the PostgreSQL store in rate-limits.ts. Each operation is one Lua script, which
// Redis runs atomically, so concurrent attempts on any number of processes are counted exactly.
// A key is a hash {count, start, blocked} (times in ms from the app's clock, like the PostgreSQL
// rows) that expires once its window and its block have both ended, so Redis needs no cleanup.
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { StoreUnavailableError } from '../storage/unavailable.ts'
import {
  ACCOUNT_DELAY_AFTER,
  ACCOUNT_LOCK_AFTER,
  ACCOUNT_LOCK_SECONDS,
  ACCOUNT_WINDOW_SECONDS,
  accountKey,
  counterKey,
  retryAfterSeconds,
  type RateLimitStore,
} from './rate-limits.ts'

// KEYS[1]; ARGV: now, window (ms). Returns {count, window start}.
const HIT = `
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
local count
if start == nil or start <= now - window then
  start = now
  count = 1
  redis.call('HSET', KEYS[1], 'count', 1, 'start', start)
else
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
redis.call('PEXPIRE', KEYS[1], math.max(1, start + window - now))
return {count, start}`

// KEYS[1]; ARGV: now, window, delay after, lock after, lock (ms). Returns the failures counted.
// The count starts again only when its window has ended and no block is running (as in PostgreSQL).
const FAILURE = `
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local delayAfter, lockAfter, lockMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local fields = redis.call('HMGET', KEYS[1], 'start', 'blocked')
local start, blocked = tonumber(fields[1]), tonumber(fields[2])
local count
if start == nil or (start <= now - window and (blocked == nil or blocked <= now)) then
  count = 1
  redis.call('HSET', KEYS[1], 'count', 1)
else
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
if start == nil or start <= now - window then
  start = now
  redis.call('HSET', KEYS[1], 'start', start)
end
local blockMs = 0
if count >= lockAfter then blockMs = lockMs elseif count >= delayAfter then blockMs = 1000 * 2 ^ (count - delayAfter) end
if blockMs > 0 then
  blocked = now + blockMs
  redis.call('HSET', KEYS[1], 'blocked', blocked)
end
redis.call('PEXPIRE', KEYS[1], math.max(1, start + window - now, (blocked or 0) - now))
return count`

interface CounterCommands {
  plusidHit(key: string, now: number, windowMs: number): Promise<[number, number]>
  plusidFailure(key: string, now: number, windowMs: number, delayAfter: number, lockAfter: number, lockMs: number): Promise<number>
}

export interface RedisRateLimitOptions {
  /** Prefix of every key (tests use a random one per file; deployments share `plusid:`). */
  keyPrefix?: string
  log: Pick<Logger, 'warn' | 'info'>
}

/**
 * Connects to Redis and returns the store. An unreachable Redis never fails the start or crashes
 * the process: the client keeps reconnecting, and meanwhile every operation throws
 * StoreUnavailableError at once (no queue), so logins and registrations are refused with 503.
 */
export async function redisRateLimits(url: string, options: RedisRateLimitOptions): Promise<RateLimitStore> {
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix ?? 'plusid:',
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  }) as Redis & CounterCommands
  client.defineCommand('plusidHit', { numberOfKeys: 1, lua: HIT })
  client.defineCommand('plusidFailure', { numberOfKeys: 1, lua: FAILURE })
  // Without an 'error' listener a lost connection would crash the process. Log an outage once.
  let down = false
  client.on('error', (error) => {
    if (!down) options.log.warn({ err: error }, 'Redis is unreachable: logins and registrations answer 503 until it is back')
    down = true
  })
  client.on('ready', () => {
    if (down) options.log.info('Redis is reachable again')
    down = false
  })
  await client.connect().catch(() => {}) // reported by the 'error' listener; reconnecting goes on

  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      return await command()
    } catch (error) {
      throw new StoreUnavailableError('the rate-limit counters (Redis) cannot be reached', { cause: error })
    }
  }

  return {
    kind: 'redis',

    async hit(limit, subject, now) {
      const windowMs = limit.windowSeconds * 1000
      const [count, start] = await run(() => client.plusidHit(counterKey(limit, subject), now.getTime(), windowMs))
      return { count, retryAfter: count <= limit.max ? null : retryAfterSeconds(start + windowMs, now.getTime()) }
    },

    async accountMayTry(lookup, now) {
      const [count, blocked] = await run(() => client.hmget(accountKey(lookup), 'count', 'blocked'))
      return { mayTry: blocked === null || Number(blocked) <= now.getTime(), hasFailures: count !== null }
    },

    async recordAccountFailure(lookup, now) {
      return run(() =>
        client.plusidFailure(
          accountKey(lookup),
          now.getTime(),
          ACCOUNT_WINDOW_SECONDS * 1000,
          ACCOUNT_DELAY_AFTER,
          ACCOUNT_LOCK_AFTER,
          ACCOUNT_LOCK_SECONDS * 1000,
        ),
      )
    },

    async clearAccountFailures(lookup) {
      await run(() => client.del(accountKey(lookup)))
    },

    async close() {
      // quit() waits for the answers still due; a client that is not connected is just stopped.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
      else client.disconnect()
    },
  }
}
