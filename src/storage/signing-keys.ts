// ID token signing keys: next → current → retired. Two partial unique indexes keep at most one
// current and one next key per algorithm, so concurrent rotations cannot both win.
import { sql } from 'kysely'
import type { Executor } from './database.ts'

export type KeyAlg = 'ES256' | 'RS256'

export interface StoredKey {
  kid: string
  alg: KeyAlg
  state: 'next' | 'current' | 'retired'
  publicJwk: Record<string, unknown>
  privateJwkEncrypted: string
  expiresAt: Date | null
}

/** Keys the JWKS publishes: next and current ones, and retired ones not yet expired. */
export async function listPublishedKeys(db: Executor, now: Date): Promise<StoredKey[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'state', 'public_jwk', 'private_jwk_encrypted', 'expires_at'])
    .where((eb) => eb.or([eb('state', '!=', 'retired'), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .execute()
  return rows.map((row) => ({
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    publicJwk: row.public_jwk,
    privateJwkEncrypted: row.private_jwk_encrypted,
    expiresAt: row.expires_at,
  }))
}

export async function insertKey(db: Executor, key: Omit<StoredKey, 'expiresAt'>, now: Date): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      state: key.state,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk_encrypted: key.privateJwkEncrypted,
      activated_at: key.state === 'current' ? now : null,
    })
    .execute()
}

export async function retireCurrentKey(db: Executor, alg: KeyAlg, now: Date, expiresAt: Date): Promise<void> {
  await db
    .updateTable('signing_keys')
    .set({ state: 'retired', retired_at: now, expires_at: expiresAt })
    .where('alg', '=', alg)
    .where('state', '=', 'current')
    .execute()
}

export async function promoteNextKey(db: Executor, alg: KeyAlg, now: Date): Promise<string | undefined> {
  const row = await db
    .updateTable('signing_keys')
    .set({ state: 'current', activated_at: now })
    .where('alg', '=', alg)
    .where('state', '=', 'next')
    .returning('kid')
    .executeTakeFirst()
  return row?.kid
}

/** A fingerprint of the published key set: it changes whenever a key is added or changes state. */
export async function keySetVersion(db: Executor): Promise<string> {
  const row = await db
    .selectFrom('signing_keys')
    .select((eb) => [
      eb.fn.countAll<string>().as('count'),
      eb.fn.max('created_at').as('created'),
      eb.fn.max('activated_at').as('activated'),
      eb.fn.max('retired_at').as('retired'),
    ])
    .executeTakeFirstOrThrow()
  return JSON.stringify(row)
}

const KEY_LOCK = 7_052_818_114

/** Serialises key creation and rotation across processes for the rest of the transaction. */
export async function lockSigningKeys(trx: Executor): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${KEY_LOCK})`.execute(trx)
}
