// PKCE (RFC 7636), S256 only: `plain` gives no protection against a stolen code.
import { createHash } from 'node:crypto'
import { constantTimeEqual } from '../crypto/tokens.ts'

/** RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~]. */
export const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** BASE64URL(SHA-256(verifier)) without padding: always 43 characters. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

export function verifierMatches(challenge: string, verifier: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url')
  return constantTimeEqual(Buffer.from(computed), Buffer.from(challenge))
}
