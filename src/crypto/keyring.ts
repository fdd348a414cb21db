// Encryption at rest of emails and Profile+ values (docs/profile-claims.md). Values are sealed with
// AES-256-GCM (a random IV each, the record's id and column as associated data) under a data key;
// data keys are stored wrapped by the master key, which never enters the database. A value reads
// `<data key id>.v1.<iv>.<tag>.<ciphertext>`, so a retired key keeps opening what it sealed until
// `plusid keys rotate-data` has re-encrypted everything under the current one.
//
// A process has one master key, so it has one keyring: installed at start (server, CLI, tests) and
// used by the storage functions that read and write these columns.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import type { Executor } from '../storage/database.ts'
import { open, seal } from './secret-box.ts'

const DATA_KEY_LOCK = 7_052_818_116
const PAIRWISE_MAGIC = Buffer.from('psv1')
const PAIRWISE_AAD = Buffer.from('provider pairwise secret')

export function isSealedPairwiseSecret(stored: Uint8Array): boolean {
  return stored.length === 64 && Buffer.from(stored.buffer, stored.byteOffset, 4).equals(PAIRWISE_MAGIC)
}

export class Keyring {
  private constructor(
    private current: { id: string; key: Buffer },
    private keys: Map<string, Buffer>,
    private readonly emailHmacKey: Buffer,
    private readonly db: Kysely<DB>,
    private readonly masterKey: Buffer,
  ) {}

  static async open(db: Kysely<DB>, masterKey: Buffer): Promise<Keyring> {
    await ensureDataKey(db, masterKey)
    // The email lookup key is derived, not stored: it changes only with the master key.
    const emailHmacKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'plusid email lookup', 32))
    const keyring = new Keyring({ id: '', key: Buffer.alloc(0) }, new Map(), emailHmacKey, db, masterKey)
    await keyring.reload()
    return keyring
  }

  get currentKeyId(): string {
    return this.current.id
  }

  seal(plaintext: string, associatedData: string): string {
    return `${this.current.id}.${seal(this.current.key, plaintext, associatedData)}`
  }

  /** Opens a sealed value; throws when it was sealed for another record or under an unknown key. */
  open(value: string, associatedData: string): string {
    const dot = value.indexOf('.')
    const key = this.keys.get(value.slice(0, dot))
    if (!key) throw new Error(`unknown data key ${value.slice(0, dot)}: reload the keyring`)
    return open(key, value.slice(dot + 1), associatedData)
  }

  sealNullable(plaintext: string | null, associatedData: string): string | null {
    return plaintext === null ? null : this.seal(plaintext, associatedData)
  }

  openNullable(value: string | null, associatedData: string): string | null {
    return value === null ? null : this.open(value, associatedData)
  }

  /** The login lookup key of an address: the whole address lower-cased. */
  emailHmac(email: string): Buffer {
    return createHmac('sha256', this.emailHmacKey).update(email.toLowerCase()).digest()
  }

  /**
   * A provider's pairwise secret as stored (README, Security: sealed like signing keys, under the
   * master key): `psv1` + IV + tag + AES-256-GCM ciphertext, in the bytea column that held it in
   * clear. A dump no longer links a user's `sub` across providers.
   */
  sealPairwiseSecret(secret: Uint8Array): Buffer {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv)
    cipher.setAAD(PAIRWISE_AAD)
    const body = Buffer.concat([cipher.update(secret), cipher.final()])
    return Buffer.concat([PAIRWISE_MAGIC, iv, cipher.getAuthTag(), body])
  }

  /** The secret of a stored value; one stored in clear before sealing existed is returned as it is. */
  openPairwiseSecret(stored: Uint8Array): Uint8Array {
    const value = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
    if (!isSealedPairwiseSecret(value)) return value
    const key = value.toString('base64')
    const cached = this.pairwiseCache.get(key)
    if (cached) return cached
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, value.subarray(4, 16))
    decipher.setAAD(PAIRWISE_AAD)
    decipher.setAuthTag(value.subarray(16, 32))
    const secret = Buffer.concat([decipher.update(value.subarray(32)), decipher.final()])
    // Read on every authorize, token and userinfo: opened once per process (providers are few).
    if (this.pairwiseCache.size >= 10_000) this.pairwiseCache.clear()
    this.pairwiseCache.set(key, secret)
    return secret
  }

  private readonly pairwiseCache = new Map<string, Buffer>()

  /** Reloads the data keys every so often: another process may have rotated them. */
  startAutoRefresh(intervalMs: number, onError: (error: unknown) => void): () => void {
    const timer = setInterval(() => this.reload().catch(onError), intervalMs)
    timer.unref()
    return () => clearInterval(timer)
  }

  async reload(): Promise<void> {
    const rows = await this.db.selectFrom('data_keys').select(['id', 'wrapped_key', 'state']).execute()
    const keys = new Map(rows.map((row) => [row.id, Buffer.from(open(this.masterKey, row.wrapped_key, `data-key:${row.id}`), 'base64')]))
    const current = rows.find((row) => row.state === 'current')
    if (!current) throw new Error('no current data key')
    this.keys = keys
    this.current = { id: current.id, key: keys.get(current.id)! }
  }
}

async function ensureDataKey(db: Kysely<DB>, masterKey: Buffer): Promise<void> {
  const existing = await db.selectFrom('data_keys').select('id').where('state', '=', 'current').executeTakeFirst()
  if (existing) return
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${DATA_KEY_LOCK})`.execute(trx)
    if (await trx.selectFrom('data_keys').select('id').where('state', '=', 'current').executeTakeFirst()) return
    await insertDataKey(trx, masterKey, 'current')
  })
}

async function insertDataKey(db: Executor, masterKey: Buffer, state: 'current' | 'retired'): Promise<string> {
  const id = 'dk' + randomBytes(6).toString('hex')
  await db
    .insertInto('data_keys')
    .values({ id, wrapped_key: seal(masterKey, randomBytes(32).toString('base64'), `data-key:${id}`), state })
    .execute()
  return id
}

let installed: Keyring | undefined

/** The process's keyring (see the module comment). */
export function keyring(): Keyring {
  if (!installed) throw new Error('no keyring installed: open one with installKeyring(db, masterKey) at start')
  return installed
}

export async function installKeyring(db: Kysely<DB>, masterKey: Buffer): Promise<Keyring> {
  installed = await Keyring.open(db, masterKey)
  return installed
}

/**
 * A new current data key; the previous one is retired (still opens what it sealed). Returns the
 * new key's id and the retired ones.
 */
export async function addDataKey(db: Kysely<DB>, masterKey: Buffer): Promise<{ current: string; retired: string[] }> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${DATA_KEY_LOCK})`.execute(trx)
    const retired = await trx.updateTable('data_keys').set({ state: 'retired' }).where('state', '=', 'current').returning('id').execute()
    const current = await insertDataKey(trx, masterKey, 'current')
    return { current, retired: retired.map((row) => row.id) }
  })
}
