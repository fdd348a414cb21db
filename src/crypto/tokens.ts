// Random secrets and their stored form. Codes and tokens carry 256 bits; only SHA-256 hashes are
// stored, so the tables cannot be replayed. (They are random, not passwords: no slow hash needed.)
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/** Equal-length comparison that takes the same time wherever the inputs differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Opaque tokens are 43 base64url characters (32 bytes); anything else is not ours. */
export const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/
