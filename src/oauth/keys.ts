// The signing keys in memory. They are read from the database at start and when the key set
// changes (checked once a minute), never per request. Every process of a deployment shares them
// through the database; a rotation publishes the next key before anyone signs with it, so a
// process that learns of the rotation a minute late still signs with a published key.
import { createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import { open, seal } from '../crypto/secret-box.ts'
import type { Executor } from '../storage/database.ts'
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import {
  insertKey,
  keySetVersion,
  listPublishedKeys,
  lockSigningKeys,
  promoteNextKey,
  retireCurrentKey,
  type KeyAlg,
  type StoredKey,
} from '../storage/signing-keys.ts'

export const KEY_ALGS: readonly KeyAlg[] = ['ES256', 'RS256']

export interface SigningKey {
  kid: string
  alg: KeyAlg
  /** node:crypto's form of the key, for synchronous signing (see jws.ts). */
  privateKey: KeyObject
}

interface Snapshot {
  version: string
  current: Map<KeyAlg, SigningKey>
  publicKeys: Map<string, { alg: KeyAlg; key: CryptoKey }>
  jwksBody: string
  jwksEtag: string
}

async function newKey(alg: KeyAlg, state: 'next' | 'current', masterKey: Buffer): Promise<Omit<StoredKey, 'expiresAt'>> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) })
  const publicJwk = await exportJWK(publicKey)
  // kid: the RFC 7638 thumbprint as 64 hex characters, the shape LINE's kids have.
  const kid = Buffer.from(await calculateJwkThumbprint(publicJwk), 'base64url').toString('hex')
  const privateJwk = await exportJWK(privateKey)
  return {
    kid,
    alg,
    state,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwkEncrypted: seal(masterKey, JSON.stringify(privateJwk), `signing-key:${kid}`),
  }
}

/** Makes sure each algorithm has a current and a next key (first start, or after a manual edit). */
export async function ensureSigningKeys(db: Kysely<DB>, masterKey: Buffer, now = new Date()): Promise<void> {
  const published = await listPublishedKeys(db, now)
  const missing = KEY_ALGS.flatMap((alg) =>
    (['current', 'next'] as const)
      .filter((state) => !published.some((k) => k.alg === alg && k.state === state))
      .map((state) => ({ alg, state })),
  )
  if (missing.length === 0) return
  const created = await Promise.all(missing.map(({ alg, state }) => newKey(alg, state, masterKey)))
  await db.transaction().execute(async (trx) => {
    // Processes starting together: one creates the keys, the others find them under the lock.
    await lockSigningKeys(trx)
    const again = await listPublishedKeys(trx, now)
    for (const key of created) {
      if (!again.some((k) => k.alg === key.alg && k.state === key.state)) await insertKey(trx, key, now)
    }
  })
}

/**
 * next → current, current → retired (published until `retainFor` has passed: the lifetime of
 * the tokens it signed), and a new next key. Returns the new current and next kids per algorithm.
 */
export async function rotateSigningKeys(
  db: Kysely<DB>,
  masterKey: Buffer,
  retainForSeconds: number,
  now = new Date(),
): Promise<Record<KeyAlg, { current: string; next: string }>> {
  await ensureSigningKeys(db, masterKey, now)
  const nextKeys = await Promise.all(KEY_ALGS.map((alg) => newKey(alg, 'next', masterKey)))
  return db.transaction().execute(async (trx) => {
    await lockSigningKeys(trx)
    const result = {} as Record<KeyAlg, { current: string; next: string }>
    for (const next of nextKeys) {
      await retireCurrentKey(trx, next.alg, now, new Date(now.getTime() + retainForSeconds * 1000))
      const current = await promoteNextKey(trx, next.alg, now)
      await insertKey(trx, next, now)
      result[next.alg] = { current: current ?? next.kid, next: next.kid }
    }
    return result
  })
}

export class KeyStore {
  private snapshot!: Snapshot
  private timer: NodeJS.Timeout | undefined

  private constructor(
    private readonly db: Executor,
    private readonly masterKey: Buffer,
  ) {}

  static async open(db: Kysely<DB>, masterKey: Buffer): Promise<KeyStore> {
    await ensureSigningKeys(db, masterKey)
    const store = new KeyStore(db, masterKey)
    await store.reload()
    return store
  }

  /** The key to sign with now. */
  signingKey(alg: KeyAlg): SigningKey {
    const key = this.snapshot.current.get(alg)
    if (!key) throw new Error(`no current ${alg} signing key`)
    return key
  }

  /** A published public key by kid (current, next, or retired but not expired). */
  publicKey(kid: string): { alg: KeyAlg; key: CryptoKey } | undefined {
    return this.snapshot.publicKeys.get(kid)
  }

  jwks(): { body: string; etag: string } {
    return { body: this.snapshot.jwksBody, etag: this.snapshot.jwksEtag }
  }

  /** Reloads when the key set changed since the last load (one small query otherwise). */
  async refresh(): Promise<void> {
    if ((await keySetVersion(this.db)) !== this.snapshot.version) await this.reload()
  }

  startAutoRefresh(intervalMs = 60_000, onError: (error: unknown) => void = () => {}): void {
    this.timer = setInterval(() => this.refresh().catch(onError), intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  private async reload(): Promise<void> {
    const version = await keySetVersion(this.db)
    const keys = await listPublishedKeys(this.db, new Date())
    const current = new Map<KeyAlg, SigningKey>()
    const publicKeys = new Map<string, { alg: KeyAlg; key: CryptoKey }>()
    for (const stored of keys) {
      publicKeys.set(stored.kid, { alg: stored.alg, key: (await importJWK(stored.publicJwk as JWK, stored.alg)) as CryptoKey })
      if (stored.state === 'current') {
        const privateJwk = JSON.parse(open(this.masterKey, stored.privateJwkEncrypted, `signing-key:${stored.kid}`)) as JWK
        current.set(stored.alg, {
          kid: stored.kid,
          alg: stored.alg,
          privateKey: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }),
        })
      }
    }
    const jwksBody = JSON.stringify({ keys: keys.map((k) => k.publicJwk) })
    this.snapshot = {
      version,
      current,
      publicKeys,
      jwksBody,
      jwksEtag: `"${createHash('sha256').update(jwksBody).digest('base64url').slice(0, 27)}"`,
    }
  }
}
