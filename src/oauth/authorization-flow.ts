// The steps between a validated authorization request and the code: who the user is, whether
// they may use the channel, what they already granted — and issuing the code itself.
import { randomBytes, randomUUID } from 'node:crypto'
import { randomToken, sha256 } from '../crypto/tokens.ts'
import { recordRefusal } from '../storage/applications.ts'
import type { Executor } from '../storage/database.ts'
import { mayUseDevelopingChannel, type Channel } from '../storage/channels.ts'
import { findAuthorizeContext, type SessionContext } from '../storage/contexts.ts'
import { insertInteraction, sealInteractionRequest } from '../storage/interactions.ts'
import { findGrant } from '../storage/grants.ts'
import { insertAuthorizationCode, type AuthorizationCode } from '../storage/oauth-tokens.ts'
import type { AuthorizationRequest } from './authorize.ts'
import type { OAuthContext } from './context.ts'
import { OAuthError } from './errors.ts'
import { IdTokenError, verifyIdToken } from './id-token.ts'
import { nextStep, type Grant, type NextStep } from './interaction.ts'
import { pairwiseSubject } from './subject.ts'

/** A login page left open longer than this gets the "expired" page (docs/protocol.md). */
export const INTERACTION_TTL_SECONDS = 30 * 60

/**
 * The most a stored authorization request may take (sealed). Every parameter is bounded already
 * (state and nonce 2,048 characters, id_token_hint 8,192, login_hint 320...), so only a request
 * near all the bounds at once reaches it; it caps what anybody can make plusid store per request.
 */
export const MAX_STORED_REQUEST_BYTES = 16 * 1024

/**
 * The channel of an authorization request, and the browser's session with its user's grant to
 * it: one round trip. Undefined when the channel does not exist.
 */
export async function authorizeContext(
  db: Executor,
  clientId: unknown,
  sessionId: string | null,
): Promise<{ channel: Channel; session: SessionContext | undefined } | undefined> {
  return typeof clientId === 'string' ? findAuthorizeContext(db, clientId, sessionId) : undefined
}

/**
 * Stores a validated request as an interaction (login, consent) bound to the browser's key, and
 * returns its id. The request is sealed, and refused when it is too large to store.
 */
export async function startInteraction(db: Executor, request: AuthorizationRequest, browserKey: string, now: Date): Promise<string> {
  const id = randomBytes(16).toString('base64url')
  const sealedRequest = sealInteractionRequest(id, request as unknown as Record<string, unknown>)
  if (Buffer.byteLength(sealedRequest) > MAX_STORED_REQUEST_BYTES)
    throw new OAuthError('invalid_request', 'the authorization request is too large')
  await insertInteraction(db, {
    id,
    browserHash: sha256(browserKey),
    channelId: request.clientId,
    sealedRequest,
    expiresAt: new Date(now.getTime() + INTERACTION_TTL_SECONDS * 1000),
  })
  return id
}

/** Counts a request refused for items the channel has no permission for (the console shows it). */
export async function recordMissingPermission(db: Executor, channelId: string, items: readonly string[], now: Date): Promise<void> {
  await recordRefusal(db, channelId, items, now)
}

export interface SessionUser {
  userId: string
  authTime: Date
  /** The grant to this channel when the caller read it already (null: none); else it is read here. */
  grant?: Grant | null
}

export async function decideNextStep(
  ctx: OAuthContext,
  request: AuthorizationRequest,
  channel: Channel,
  session: SessionUser | null,
  loggedInNow: boolean,
  now: Date,
): Promise<NextStep> {
  // OIDC Core §3.1.2.2: a hint is checked whenever it is sent, logged in or not.
  const hinted = request.idTokenHint !== undefined ? await hintedSubject(ctx, request.idTokenHint, channel) : undefined
  const hintMismatch = session !== null && hinted !== undefined && hinted !== pairwiseSubject(channel.pairwiseSecret, session.userId)
  const [mayUseChannel, grant] = session
    ? await Promise.all([
        channel.status === 'published' || mayUseDevelopingChannel(ctx.db, channel, session.userId),
        session.grant !== undefined ? session.grant : findGrant(ctx.db, session.userId, channel.id),
      ])
    : [true, null]
  return nextStep({ request, channelIsPublic: channel.isPublic, session, loggedInNow, hintMismatch, mayUseChannel, grant, now })
}

/**
 * The sub of an ID token this server issued to this channel (expired ones too: it only names a
 * user). The channel is already read, so the check costs no round trip.
 */
async function hintedSubject(ctx: OAuthContext, idTokenHint: string, channel: Channel): Promise<string> {
  try {
    const payload = await verifyIdToken(idTokenHint, {
      issuer: ctx.issuer,
      keys: ctx.keys,
      masterKey: ctx.masterKey,
      channel,
      allowExpired: true,
    })
    return payload.sub
  } catch (error) {
    if (error instanceof IdTokenError) throw new OAuthError('invalid_request', 'id_token_hint is not a valid ID token of this server')
    throw error
  }
}

/** A single-use code of ≥128 bits (here 256), bound to the channel, callback URL, PKCE and nonce. */
export function newAuthorizationCode(
  ctx: OAuthContext,
  request: AuthorizationRequest,
  userId: string,
  scopes: string[],
  authTime: Date,
  amr: string[],
  now: Date,
): { code: string; record: { hash: Uint8Array } & AuthorizationCode } {
  const code = randomToken()
  return {
    code,
    record: {
      hash: sha256(code),
      channelId: request.clientId,
      userId,
      redirectUri: request.redirectUri,
      scopes,
      nonce: request.nonce ?? null,
      codeChallenge: request.codeChallenge ?? null,
      authTime,
      amr,
      tokenFamily: randomUUID(),
      expiresAt: new Date(now.getTime() + ctx.config.authorizationCodeTtlSeconds * 1000),
    },
  }
}

/**
 * Issues and stores a code for the user of a browser session (marking the grant used in the same
 * statement). A session ended meanwhile (a password change or a disable committing at this
 * moment) gets no code: login_required.
 */
export async function issueAuthorizationCode(
  ctx: OAuthContext,
  db: Executor,
  request: AuthorizationRequest,
  session: { id: string; userId: string; authTime: Date },
  scopes: string[],
  amr: string[],
  now: Date,
): Promise<string> {
  const { code, record } = newAuthorizationCode(ctx, request, session.userId, scopes, session.authTime, amr, now)
  if (!(await insertAuthorizationCode(db, record.hash, record, session.id))) throw new OAuthError('login_required', 'the session ended')
  return code
}
