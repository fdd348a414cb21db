// build(t): a plusid app on this file's test database, closed when the test ends.
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { KeyStore } from '../../src/oauth/keys.ts'
import { installKeyring } from '../../src/storage/data-keys.ts'
import { testDatabase } from './database.ts'

// Opened while the test file is being imported, so its cleanup belongs to the whole file (a
// node:test `after` registered inside a test would close it after that test).
/** One master key per test process, like one per deployment. */
export const TEST_MASTER_KEY = randomBytes(32)

// The keyring (emails and Profile+ values are sealed) for helpers that write users directly.
await installKeyring((await testDatabase()).db, TEST_MASTER_KEY)

export function testConfig(env: Record<string, string> = {}): Config {
  // Every test request comes from 127.0.0.1: per-IP limits are lifted unless a test sets them.
  const unlimited = {
    LOGINS_PER_IP_PER_MINUTE: '1000000',
    REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
    TOKEN_FAILURES_PER_IP_PER_MINUTE: '1000000',
    ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE: '1000000',
  }
  return loadConfig({ LOG_LEVEL: 'silent', PUBLIC_URL: 'http://localhost:3000', DATA_DIR: '.tmp/test-data', ...unlimited, ...env })
}

let keys: Promise<KeyStore> | undefined
/** The signing keys of this test process, loaded once. */
export async function testKeys(): Promise<KeyStore> {
  keys ??= testDatabase().then((database) => KeyStore.open(database.db, TEST_MASTER_KEY))
  return keys
}

export async function buildOptions(extra: Partial<AppOptions> = {}): Promise<AppOptions> {
  return { database: await testDatabase(), masterKey: TEST_MASTER_KEY, keys: await testKeys(), ...extra }
}

export async function build(t: TestContext, env: Record<string, string> = {}, extra: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(env), await buildOptions(extra))
  t.after(() => app.close())
  await app.ready()
  englishByDefault(app)
  return app
}

/**
 * Requests ask for English pages unless they send their own Accept-Language (an empty one gets
 * plusid's default, Japanese): the assertions of most tests quote English texts.
 */
export function englishByDefault(app: FastifyInstance): void {
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>
  const withEnglish = (options: InjectOptions) => {
    const headers = (options.headers ?? {}) as Record<string, string>
    return inject({
      ...options,
      headers: Object.keys(headers).some((name) => name.toLowerCase() === 'accept-language')
        ? headers
        : { ...headers, 'accept-language': 'en' },
    })
  }
  app.inject = withEnglish as unknown as FastifyInstance['inject']
}
