// Encryption at rest of emails and Profile+ values (docs/profile-claims.md). Values are sealed with
// AES-256-GCM (a random IV each, the record's id and column as associated data) under a data key;
// data keys are stored wrapped by the master key, which never enters the database. A value reads
// `<data key id>.v1.<iv>.<tag>.<ciphertext>`, so a retired key keeps opening what it sealed until
// `plusid keys rotate-data` has re-encrypted everything under the current one.
//
// A process has one master key, so it has one keyring: installed at start (server, CLI, tests) and
// used by the storage functions that read and write these columns. The data keys are stored by
// storage/data-keys.ts, which opens the keyring with a function that reads them.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { open, seal } from './secret-box.ts'

const PAIRWISE_MAGIC = Buffer.from('psv1')
const PAIRWISE_AAD = Buffer.from('provider pairwise secret')

export function isSealedPairwiseSecret(stored: Uint8Array): boolean {
  return stored.length === 64 && Buffer.from(stored.buffer, stored.byteOffset, 4).equals(PAIRWISE_MAGIC)
}

/** A data key as stored: wrapped (sealed) by the master key. */
export interface WrappedDataKey {
  id: string
  wrappedKey: string
  state: 'current' | 'retired'
}

/** A new data key, wrapped by the master key under its id. */
export function newWrappedDataKey(masterKey: Buffer, state: 'current' | 'retired'): WrappedDataKey {
  const id = 'dk' + randomBytes(6).toString('hex')
  return { id, wrappedKey: seal(masterKey, randomBytes(32).toString('base64'), `data-key:${id}`), state }
}

export class Keyring {
  private constructor(
    private current: { id: string; key: Buffer },
    private keys: Map<string, Buffer>,
    private readonly emailHmacKey: Buffer,
    private readonly loadKeys: () => Promise<WrappedDataKey[]>,
    private readonly masterKey: Buffer,
  ) {}

  /** A keyring over the data keys `loadKeys` reads (again on every reload). */
  static async open(masterKey: Buffer, loadKeys: () => Promise<WrappedDataKey[]>): Promise<Keyring> {
    // The email lookup key is derived, not stored: it changes only with the master key.
    const emailHmacKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'plusid email lookup', 32))
    const keyring = new Keyring({ id: '', key: Buffer.alloc(0) }, new Map(), emailHmacKey, loadKeys, masterKey)
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
    const rows = await this.loadKeys()
    const keys = new Map(rows.map((row) => [row.id, Buffer.from(open(this.masterKey, row.wrappedKey, `data-key:${row.id}`), 'base64')]))
    const current = rows.find((row) => row.state === 'current')
    if (!current) throw new Error('no current data key')
    this.keys = keys
    this.current = { id: current.id, key: keys.get(current.id)! }
  }
}

let installed: Keyring | undefined

/** The process's keyring (see the module comment). */
export function keyring(): Keyring {
  if (!installed) throw new Error('no keyring installed: open one with installKeyring(db, masterKey) at start')
  return installed
}

/** Makes `ring` the process's keyring (storage/data-keys.ts's installKeyring opens and sets it). */
export function setKeyring(ring: Keyring): Keyring {
  installed = ring
  return installed
}
