// Password hashing with argon2id at OWASP's recommended parameters (19 MiB, t=2, p=1).
import { randomBytes } from 'node:crypto'
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2'

// `Algorithm` is a const enum in the package's types, which isolated modules cannot inline.
const ARGON2ID = 2 as Algorithm

export const PASSWORD_HASH_OPTIONS: Readonly<Options> = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
})

/**
 * argon2 runs on libuv's thread pool (4 threads by default), which WebCrypto signing and other
 * async work share. At most two hashes run at once, so a storm of logins queues here instead of
 * occupying every pool thread and stalling token and userinfo requests.
 */
const MAX_CONCURRENT_HASHES = 2
let running = 0
const waiting: (() => void)[] = []

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve))
  else running++
  try {
    return await work()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}

// NFC first: the same password typed as composed or decomposed characters must match (password-policy.ts).
export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password.normalize('NFC'), PASSWORD_HASH_OPTIONS))
}

/** False for a wrong password and for a hash that cannot be read (never throws on bad data). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await limited(() => verify(passwordHash, password.normalize('NFC')))
  } catch {
    return false
  }
}

/** True when the hash was made with other parameters than today's: it is re-hashed at login. */
export function needsRehash(passwordHash: string): boolean {
  try {
    const used = parseOptions(passwordHash)
    return (
      used.algorithm !== PASSWORD_HASH_OPTIONS.algorithm ||
      used.memoryCost !== PASSWORD_HASH_OPTIONS.memoryCost ||
      used.timeCost !== PASSWORD_HASH_OPTIONS.timeCost ||
      used.parallelism !== PASSWORD_HASH_OPTIONS.parallelism
    )
  } catch {
    return true
  }
}

let dummyHash: Promise<string> | undefined

/**
 * Spends the same time as checking a real password, for a login with an unknown email, so the
 * response time does not tell which emails have accounts.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'))
  await verifyPassword(await dummyHash, password)
  return false
}
