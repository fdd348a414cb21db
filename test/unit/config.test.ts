// Configuration from the environment: defaults, normalisation, and one message for every bad value.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.ts'

test('defaults give a working local setup on the embedded database', () => {
  const config = loadConfig({})
  assert.equal(config.port, 3000)
  assert.equal(config.publicUrl, 'http://localhost:3000')
  assert.equal(config.databaseUrl, undefined)
  assert.match(config.dataDir, /\/data$/)
  assert.equal(config.secureCookies, false)
  assert.equal(config.logLevel, 'info')
  assert.ok(Object.isFrozen(config))
})

test('values are read and normalised', () => {
  const config = loadConfig({
    PORT: '8080',
    PUBLIC_URL: 'https://id.example.com/',
    DATABASE_URL: 'postgres://plusid:secret@db:5432/plusid',
    PLUSID_MASTER_KEY: '00'.repeat(32),
    SESSION_TTL_SECONDS: '3600',
    TRUST_PROXY: '1',
    LOG_LEVEL: 'warn',
  })
  assert.equal(config.publicUrl, 'https://id.example.com')
  assert.equal(config.port, 8080)
  assert.equal(config.secureCookies, true)
  assert.equal(config.masterKey?.length, 32)
  assert.equal(config.sessionTtlSeconds, 3600)
  assert.equal(config.trustProxy, 1)
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1' }).trustProxy, ['10.0.0.0/8', '192.168.1.7', '::1'])
  assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  assert.equal(loadConfig({}).trustProxy, false)
  assert.throws(() => loadConfig({ TRUST_PROXY: 'true' }), /TRUST_PROXY must say which proxies to trust/)
  assert.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' }), /TRUST_PROXY must be false, a number of proxy hops/)
  assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080', 'the default public URL follows PORT')
  assert.equal(loadConfig({ PLUSID_MASTER_KEY: 'A'.repeat(43) }).masterKey?.length, 32, 'base64url keys are accepted')
  assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined, 'an empty variable counts as unset')
})

test('every bad value is reported at once, naming the variable and the problem', () => {
  const env = {
    PORT: 'abc',
    PUBLIC_URL: 'ftp://id.example.com',
    DATABASE_URL: 'mysql://root@localhost/plusid',
    PLUSID_MASTER_KEY: 'too-short-secret',
    LOG_LEVEL: 'loud',
    SESSION_TTL_SECONDS: '5',
    TRUST_PROXY: 'maybe',
    REDIS_URL: 'http://cache',
  }
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError)
      assert.equal(error.problems.length, 8)
      assert.match(error.message, /PORT must be a whole number between 0 and 65535 \(got "abc"\)/)
      assert.match(error.message, /PUBLIC_URL must be an absolute http:\/\/ or https:\/\/ URL/)
      assert.match(error.message, /DATABASE_URL must be a URL such as postgres:\/\//)
      assert.match(error.message, /PLUSID_MASTER_KEY must be 32 random bytes/)
      assert.match(error.message, /LOG_LEVEL must be one of/)
      assert.match(error.message, /SESSION_TTL_SECONDS must be a whole number between 60/)
      assert.match(error.message, /TRUST_PROXY must be false, a number of proxy hops/)
      assert.match(error.message, /REDIS_URL must be a URL such as redis:/)
      assert.ok(!error.message.includes('too-short-secret'), 'secret values are not echoed')
      assert.ok(!error.message.includes('root@localhost'), 'database URLs (which may hold passwords) are not echoed')
      return true
    },
  )
  assert.throws(() => loadConfig({ PUBLIC_URL: 'https://id.example.com/?x=1' }), /PUBLIC_URL/)
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/)
})
