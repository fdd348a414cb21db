// Redis for the tests of the Redis counters: REDIS_URL, else the local server on 6379 when it
// answers. Each test file gets its own random key prefix (files run in parallel against one
// Redis), and its keys are deleted when the file ends.
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import { Redis } from 'ioredis'

export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** false when Redis answers, otherwise why its tests are skipped (a node:test `skip` value). */
export const redisSkip: string | false = (await answers(redisUrl))
  ? false
  : `Redis does not answer at ${redisUrl} (start redis-server, as .ci/run does, or set REDIS_URL)`

const filePrefix = `plusid-test:${process.pid}:${randomBytes(4).toString('hex')}:`
let counter = 0

/** A key prefix no other test has used: a test starts with no counters. */
export function freshRedisPrefix(): string {
  return `${filePrefix}${++counter}:`
}

if (!redisSkip) {
  after(async () => {
    const client = new Redis(redisUrl, { lazyConnect: true })
    client.on('error', () => {})
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${filePrefix}*`, 'COUNT', 1000)
      if (keys.length) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
    await client.quit()
  })
}
