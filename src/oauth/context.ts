// What protocol logic needs besides the request: the database, the keys, the issuer, lifetimes.
import type { Kysely } from 'kysely'
import type { Config } from '../config.ts'
import type { DB } from '../storage/schema.ts'
import type { KeyStore } from './keys.ts'

export interface OAuthContext {
  db: Kysely<DB>
  keys: KeyStore
  masterKey: Buffer
  issuer: string
  config: Pick<Config, 'authorizationCodeTtlSeconds' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'>
}
