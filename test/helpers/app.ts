// build(t): a plusid app on this file's test database, closed when the test ends.
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { testDatabase } from './database.ts'

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', PUBLIC_URL: 'http://localhost:3000', DATA_DIR: '.tmp/test-data', ...env })
}

export async function build(t: TestContext, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(env), { database: await testDatabase() })
  t.after(() => app.close())
  await app.ready()
  return app
}
