// `app.oauth`: the protocol's context (database, signing keys in memory, master key, issuer).
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import type { OAuthContext } from '../oauth/context.ts'
import { KeyStore } from '../oauth/keys.ts'

declare module 'fastify' {
  interface FastifyInstance {
    oauth: OAuthContext
  }
}

export default fp<{ config: Config; masterKey: Buffer; keys?: KeyStore; refreshKeysEveryMs?: number }>(
  async (app, { config, masterKey, keys, refreshKeysEveryMs }) => {
    const keyStore = keys ?? (await KeyStore.open(app.db, masterKey))
    if (refreshKeysEveryMs) {
      keyStore.startAutoRefresh(refreshKeysEveryMs, (error) => app.log.warn({ err: error }, 'reloading signing keys failed'))
      app.addHook('onClose', async () => keyStore.stop())
    }
    app.decorate('oauth', { db: app.db, keys: keyStore, masterKey, issuer: config.publicUrl, config })
  },
  { name: 'plusid-oauth', dependencies: ['plusid-database'] },
)
