// ID tokens (docs/protocol.md): signed with the channel's algorithm — ES256 or RS256 with a published
// key (header carries its kid), or HS256 keyed with the channel secret (no kid, as LINE's).
import { createHash } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify, decodeJwt, errors as joseErrors, type JWTPayload } from 'jose'
import { openChannelSecret } from './channel-secret.ts'
import type { Channel } from '../storage/channels.ts'
import type { KeyStore } from './keys.ts'
import { signCompactJws } from './jws.ts'

export const ID_TOKEN_TTL_SECONDS = 3600

export interface IdTokenInput {
  issuer: string
  channel: Pick<Channel, 'id' | 'idTokenAlg' | 'secretEncrypted'>
  sub: string
  authTime: Date
  amr: string[]
  nonce: string | null
  accessToken: string | null
  claims: Record<string, unknown>
  now: Date
}

export function channelSecretKey(masterKey: Buffer, channel: Pick<Channel, 'id' | 'secretEncrypted'>): Uint8Array {
  if (!channel.secretEncrypted) throw new Error(`channel ${channel.id} has no stored secret for HS256`)
  return new TextEncoder().encode(openChannelSecret(masterKey, channel.id, channel.secretEncrypted))
}

/** OIDC Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url')
}

export async function signIdToken(keys: KeyStore, masterKey: Buffer, input: IdTokenInput): Promise<string> {
  const iat = Math.floor(input.now.getTime() / 1000)
  const payload: JWTPayload = {
    iss: input.issuer,
    sub: input.sub,
    aud: input.channel.id,
    exp: iat + ID_TOKEN_TTL_SECONDS,
    iat,
    auth_time: Math.floor(input.authTime.getTime() / 1000),
    ...(input.nonce !== null ? { nonce: input.nonce } : {}),
    amr: input.amr,
    ...(input.accessToken ? { at_hash: accessTokenHash(input.accessToken) } : {}),
    ...input.claims,
  }
  if (input.channel.idTokenAlg === 'HS256') {
    return signCompactJws({ typ: 'JWT' }, payload, { alg: 'HS256', secret: channelSecretKey(masterKey, input.channel) })
  }
  const key = keys.signingKey(input.channel.idTokenAlg)
  return signCompactJws({ typ: 'JWT', kid: key.kid }, payload, { alg: key.alg, privateKey: key.privateKey })
}

export type IdTokenProblem = 'malformed' | 'signature' | 'issuer' | 'expired' | 'audience'

export class IdTokenError extends Error {
  constructor(readonly problem: IdTokenProblem) {
    super(`ID token ${problem}`)
  }
}

/**
 * Header parameters that would let the token name its own key (RFC 7515 §4.1.2–4.1.6). plusid
 * never issues them; a token that carries one was made elsewhere (RFC 8725 §3.10).
 */
const KEY_SOURCE_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const

export interface IdTokenCheck {
  issuer: string
  keys: KeyStore
  masterKey: Buffer
  /**
   * The channel the token must be for: known to the caller (authorize), or looked up by the
   * token's `aud` (verify, logout) — which is trusted only once that channel's key verified it.
   */
  channel: Channel | ((aud: string) => Promise<Channel | undefined>)
  /** An expired token still identifies its user (id_token_hint, logout). */
  allowExpired?: boolean
  now?: Date
}

/**
 * Verifies an ID token this server issued (RFC 8725 §3.1, OIDC Core §3.1.3.7): the algorithm is
 * the channel's configured one and nothing the token says; the key is a published key (by kid)
 * of that algorithm, or the channel's secret for HS256; then typ, iss, aud and exp. Returns the
 * payload.
 */
export async function verifyIdToken(token: string, check: IdTokenCheck): Promise<JWTPayload & { sub: string; aud: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>
  let unverified: JWTPayload
  try {
    header = decodeProtectedHeader(token)
    unverified = decodeJwt(token)
  } catch {
    throw new IdTokenError('malformed')
  }
  if (KEY_SOURCE_HEADERS.some((name) => name in header)) throw new IdTokenError('signature')
  let channel: Channel | undefined
  if (typeof check.channel === 'function') {
    // plusid issues `aud` as one string (its channel id); any other shape is not one of ours.
    if (typeof unverified.aud !== 'string') throw new IdTokenError('malformed')
    channel = await check.channel(unverified.aud)
    if (!channel) throw new IdTokenError('signature')
  } else {
    channel = check.channel
  }
  const alg = channel.idTokenAlg
  let key: Parameters<typeof jwtVerify>[1]
  if (alg === 'HS256') {
    if (!channel.secretEncrypted) throw new IdTokenError('signature')
    key = channelSecretKey(check.masterKey, channel)
  } else {
    const published = typeof header.kid === 'string' ? check.keys.publicKey(header.kid) : undefined
    if (!published || published.alg !== alg) throw new IdTokenError('signature')
    key = published.key
  }
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, key, {
      algorithms: [alg],
      typ: 'JWT',
      issuer: check.issuer,
      audience: channel.id,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      currentDate: check.now,
    }))
  } catch (error) {
    // jose checks the signature before any claim, and exp after iss and aud: an expired token's
    // payload is otherwise fully verified.
    if (error instanceof joseErrors.JWTExpired && error.claim === 'exp') {
      if (!check.allowExpired) throw new IdTokenError('expired')
      payload = error.payload
    } else if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw new IdTokenError(
        error.claim === 'iss' && error.reason === 'check_failed'
          ? 'issuer'
          : error.claim === 'aud' && error.reason === 'check_failed'
            ? 'audience'
            : 'malformed',
      )
    } else if (error instanceof joseErrors.JWTInvalid) {
      throw new IdTokenError('malformed')
    } else if (error instanceof joseErrors.JOSEError) {
      throw new IdTokenError('signature')
    } else {
      throw error
    }
  }
  if (typeof payload.sub !== 'string' || typeof payload.aud !== 'string') throw new IdTokenError('malformed')
  return payload as JWTPayload & { sub: string; aud: string }
}
