// Browser sessions (lucia's shape): the cookie holds `id.secret`, the database holds the id and
// SHA-256(secret). Reading the table does not give anyone a working cookie, and the secret is
// compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Executor } from '../storage/database.ts'
import { deleteSession, extendSession, findSessionWithUser, insertSession, type SessionRecord } from '../storage/sessions.ts'
import type { User } from '../storage/users.ts'
import type { Grant } from '../oauth/interaction.ts'

const TOKEN_FORMAT = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/
const LAST_SEEN_PRECISION_MS = 5 * 60 * 1000

export interface SessionClock {
  now: Date
  /** The sliding lifetime: a session used in its second half is extended by this much. */
  ttlSeconds: number
  /**
   * The absolute lifetime (SESSION_MAX_AGE_SECONDS, README, Security): counted from the login that
   * created the session, never extended; after it the user logs in again however often they came.
   */
  maxAgeSeconds?: number
}

/** When a session created at `createdAt` must end, whatever its use. */
function absoluteEnd(createdAt: Date, clock: SessionClock): number {
  return clock.maxAgeSeconds === undefined ? Infinity : createdAt.getTime() + clock.maxAgeSeconds * 1000
}

export interface ActiveSession {
  session: SessionRecord
  user: User
  token: string
  /** Set when the expiry moved forward: the cookie must be sent again with the new lifetime. */
  renewedUntil: Date | null
  /** The user's grant to a channel, when the route read it with the session (contexts.ts). */
  grant?: Grant | null
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

/** A new session for the user, or null when the account is disabled (then nobody may log in). */
export async function startSession(
  db: Executor,
  userId: string,
  details: { ip: string | null; userAgent: string | null; authTime?: Date },
  clock: SessionClock,
): Promise<{ token: string; expiresAt: Date } | null> {
  const id = randomBytes(16).toString('base64url')
  const secret = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Math.min(clock.now.getTime() + clock.ttlSeconds * 1000, absoluteEnd(clock.now, clock)))
  const inserted = await insertSession(db, {
    id,
    secretHash: hashSecret(secret),
    userId,
    authTime: details.authTime ?? clock.now,
    expiresAt,
    ip: details.ip,
    userAgent: details.userAgent?.slice(0, 512) ?? null,
  })
  // Not inserted: the account was disabled after its password was checked (see insertSession).
  return inserted ? { token: `${id}.${secret}`, expiresAt } : null
}

export interface SessionToken {
  token: string
  id: string
  secret: string
}

/** The parts of a session cookie's value, or null when it is not one. */
export function parseSessionToken(token: string | undefined): SessionToken | null {
  const match = token ? TOKEN_FORMAT.exec(token) : null
  return match ? { token: match[0], id: match[1]!, secret: match[2]! } : null
}

/**
 * The session a cookie names, or null when it is malformed, unknown, forged or expired. A session
 * used in the second half of its lifetime is extended by a full lifetime (one write at most per
 * half-lifetime, not one per request), but never past its absolute end (maxAgeSeconds).
 */
export async function resolveSession(db: Executor, token: string | undefined, clock: SessionClock): Promise<ActiveSession | null> {
  const parsed = parseSessionToken(token)
  if (!parsed) return null
  return acceptSession(db, parsed, await findSessionWithUser(db, parsed.id), clock)
}

/** Checks a session row read by the caller (possibly joined into a larger query) against the cookie. */
export async function acceptSession(
  db: Executor,
  parsed: SessionToken,
  found: { session: SessionRecord; user: User; grant?: Grant | null } | undefined,
  clock: SessionClock,
): Promise<ActiveSession | null> {
  if (!found || found.session.id !== parsed.id) return null
  const stored = Buffer.from(found.session.secretHash)
  const given = hashSecret(parsed.secret)
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null
  const end = absoluteEnd(found.session.createdAt, clock)
  if (found.session.expiresAt.getTime() <= clock.now.getTime() || end <= clock.now.getTime()) {
    await deleteSession(db, parsed.id)
    return null
  }
  let renewedUntil: Date | null = null
  const lifetimeMs = clock.ttlSeconds * 1000
  const renew = found.session.expiresAt.getTime() - clock.now.getTime() < lifetimeMs / 2
  // "Last seen" (the sessions page) is kept to within LAST_SEEN_PRECISION_MS: one write at most
  // that often per session, not one per request.
  const stale = clock.now.getTime() - found.session.lastSeenAt.getTime() > LAST_SEEN_PRECISION_MS
  if (renew || stale) {
    if (renew) renewedUntil = new Date(Math.min(clock.now.getTime() + lifetimeMs, end))
    await extendSession(db, parsed.id, renewedUntil ?? found.session.expiresAt, clock.now)
    found.session.expiresAt = renewedUntil ?? found.session.expiresAt
    found.session.lastSeenAt = clock.now
  }
  return { ...found, token: parsed.token, renewedUntil }
}

export async function endSession(db: Executor, token: string | undefined): Promise<void> {
  const match = token ? TOKEN_FORMAT.exec(token) : null
  if (match) await deleteSession(db, match[1]!)
}
