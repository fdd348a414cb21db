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
  if (Array.isArray(body.client_id) || Array.isArray(body.client_secret)) throw new OAuthError('invalid_request', 'client credentials were given more than once')
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not both Basic and client_secret')
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials')
    try {
      const clientId = formDecode(decoded.slice(0, colon))
      if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id differs from the Basic credentials')
      return { clientId, secret: formDecode(decoded.slice(colon + 1)), method: 'client_secret_basic' }
    } catch (error) {
      if (error instanceof OAuthError) throw error
      throw new OAuthError('invalid_client', 'malformed Basic credentials')
    }
  }
  if (bodyId === undefined || bodyId === '') throw new OAuthError('invalid_client', 'invalid client_id')
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === undefined ? 'none' : 'client_secret_post' }
}

/**
 * The channel the credentials prove. A confidential (web) channel must present its secret; a
 * public one presents none. The secret's hash is compared in constant time.
 */
export async function authenticateChannel(db: Executor, credentials: ClientCredentials): Promise<Channel> {
  return verifyChannelCredentials(await findChannel(db, credentials.clientId), credentials)
}

/** The same check on a channel the caller read itself (joined into a larger query). */
export function verifyChannelCredentials(channel: Channel | undefined, credentials: ClientCredentials): Channel {
  if (!channel || channel.id !== credentials.clientId) throw new OAuthError('invalid_client', 'invalid client_id')
  if (channel.isPublic) {
    if (credentials.secret !== undefined && credentials.secret !== '') throw new OAuthError('invalid_client', 'this channel has no client_secret')
    return channel
  }
  if (credentials.secret === undefined || !channel.secretHash || !constantTimeEqual(sha256(credentials.secret), channel.secretHash)) {
    throw new OAuthError('invalid_client', 'invalid client_secret')
  }
  return channel
}
