// ID tokens (plusid.md §3): signed with the channel's algorithm — ES256 or RS256 with a published
// key (header carries its kid), or HS256 keyed with the channel secret (no kid, as LINE's).
import { createHash } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify, decodeJwt, errors as joseErrors, type JWTPayload } from 'jose'
import { open } from '../crypto/secret-box.ts'
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
  return new TextEncoder().encode(open(masterKey, channel.secretEncrypted, `channel-secret:${channel.id}`))
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
 * Verifies an ID token this server issued: its signature (published key by kid, or the HS256
 * secret of the channel in `aud`), issuer and, unless `allowExpired`, expiry. Returns the payload.
 */
export async function verifyIdToken(
  token: string,
  options: { issuer: string; keys: KeyStore; masterKey: Buffer; findChannel: (id: string) => Promise<Channel | undefined>; allowExpired?: boolean; now?: Date },
): Promise<JWTPayload & { sub: string; aud: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>
  let unverified: JWTPayload
  try {
    header = decodeProtectedHeader(token)
    unverified = decodeJwt(token)
  } catch {
    throw new IdTokenError('malformed')
  }
  let key: Parameters<typeof jwtVerify>[1]
  if (header.alg === 'HS256') {
    const channel = typeof unverified.aud === 'string' ? await options.findChannel(unverified.aud) : undefined
    if (!channel || channel.idTokenAlg !== 'HS256' || !channel.secretEncrypted) throw new IdTokenError('signature')
    key = channelSecretKey(options.masterKey, channel)
  } else {
    const published = typeof header.kid === 'string' ? options.keys.publicKey(header.kid) : undefined
    if (!published || published.alg !== header.alg) throw new IdTokenError('signature')
    key = published.key
  }
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, key, {
      algorithms: [header.alg as string],
      currentDate: options.now,
      // An expired token still identifies its user (id_token_hint, logout): checked below.
      clockTolerance: options.allowExpired ? Number.MAX_SAFE_INTEGER : 0,
    }))
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new IdTokenError('expired')
    throw new IdTokenError('signature')
  }
  if (payload.iss !== options.issuer) throw new IdTokenError('issuer')
  if (typeof payload.sub !== 'string' || typeof payload.aud !== 'string') throw new IdTokenError('malformed')
  return payload as JWTPayload & { sub: string; aud: string }
}
