// Channel authentication at the token, revoke and introspection endpoints: client_secret_basic
// (RFC 6749 §2.3.1, both halves form-decoded), client_secret_post (LINE's documented way), or
// none for public channels (spa, native), which have no secret and rely on PKCE.
import type { Executor } from '../storage/database.ts'
import { findChannel, type Channel } from '../storage/channels.ts'
import { constantTimeEqual, sha256 } from '../crypto/tokens.ts'
import { OAuthError } from './errors.ts'

export interface ClientCredentials {
  clientId: string
  secret: string | undefined
  method: 'client_secret_basic' | 'client_secret_post' | 'none'
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

export function readClientCredentials(authorization: string | undefined, body: Record<string, unknown>): ClientCredentials {
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined
  if (Array.isArray(body.client_id) || Array.isArray(body.client_secret))
    throw new OAuthError('invalid_request', 'client credentials were given more than once')
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined)
      throw new OAuthError('invalid_request', 'use one client authentication method, not both Basic and client_secret')
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials')
    try {
      const clientId = formDecode(decoded.slice(0, colon))
      if (bodyId !== undefined && bodyId !== clientId)
        throw new OAuthError('invalid_request', 'client_id differs from the Basic credentials')
      return { clientId, secret: formDecode(decoded.slice(colon + 1)), method: 'client_secret_basic' }
    } catch (error) {
      if (error instanceof OAuthError) throw error
      throw new OAuthError('invalid_client', 'malformed Basic credentials')
    }
  }
  if (bodyId === undefined || bodyId === '') throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === undefined ? 'none' : 'client_secret_post' }
}

/**
 * The one answer to every failed channel authentication: an unknown client_id, a wrong or
 * missing secret, a secret sent for a public channel. A different text for each would let anyone
 * list which channel ids exist (RFC 6749 §10.x, OWASP ASVS V6.3).
 */
export const CLIENT_AUTHENTICATION_FAILED = 'invalid client_id or client_secret'

/** Compared against when there is no stored hash, so that a failure costs what a check costs. */
const NO_SECRET_HASH = new Uint8Array(32)

/**
 * The channel the credentials prove. A confidential (web) channel must present its secret; a
 * public one presents none. The secret's hash is compared in constant time.
 */
export async function authenticateChannel(db: Executor, credentials: ClientCredentials): Promise<Channel> {
  return verifyChannelCredentials(await findChannel(db, credentials.clientId), credentials)
}

/**
 * The same check on a channel the caller read itself (joined into a larger query). Every path
 * hashes the presented secret and compares it in constant time, known channel or not, so the
 * response time does not tell an unknown client_id from a wrong secret either.
 */
export function verifyChannelCredentials(channel: Channel | undefined, credentials: ClientCredentials): Channel {
  const known = channel !== undefined && channel.id === credentials.clientId
  const stored = known && !channel.isPublic && channel.secretHash ? channel.secretHash : NO_SECRET_HASH
  const secretMatches = constantTimeEqual(sha256(credentials.secret ?? ''), stored) && stored !== NO_SECRET_HASH
  if (!known) throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
  if (channel.isPublic) {
    // A public channel has no secret: one sent is a client that thinks otherwise.
    if (credentials.secret !== undefined && credentials.secret !== '') throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
    return channel
  }
  if (credentials.secret === undefined || !secretMatches) throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
  return channel
}
