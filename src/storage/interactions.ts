// Logins in progress. The row holds the validated authorization request; the browser that
// started it holds a cookie whose hash the row keeps, so another browser cannot finish it.
import { sql } from 'kysely'
import { keyring } from '../crypto/keyring.ts'
import type { Executor } from './database.ts'
import type { AuthorizationCode } from './oauth-tokens.ts'
import type { AuditEvent } from './audit.ts'

export interface InteractionRecord {
  id: string
  browserHash: Uint8Array
  channelId: string
  request: Record<string, unknown>
  userId: string | null
  authTime: Date | null
  expiresAt: Date
}

// The request holds a login_hint (an email, usually) and the site's state: sealed like Profile+
// values (README, Security: nothing personal in clear), bound to the interaction's id. The jsonb column
// then holds one JSON string, `<data key id>.v1.<iv>.<tag>.<ciphertext>`.
const requestAad = (id: string) => `interactions.request:${id}`

/** The sealed request as stored, for callers that must bound its size before inserting it. */
export function sealInteractionRequest(id: string, request: Record<string, unknown>): string {
  return JSON.stringify(keyring().seal(JSON.stringify(request), requestAad(id)))
}

/** The request of a stored interaction (one sealed before the seal existed is read as it is). */
export function openInteractionRequest(id: string, stored: unknown): Record<string, unknown> {
  if (typeof stored !== 'string') return stored as Record<string, unknown>
  return JSON.parse(keyring().open(stored, requestAad(id))) as Record<string, unknown>
}

export async function insertInteraction(
  db: Executor,
  interaction: Omit<InteractionRecord, 'userId' | 'authTime' | 'request'> & { sealedRequest: string },
): Promise<void> {
  await db
    .insertInto('interactions')
    .values({
      id: interaction.id,
      browser_hash: interaction.browserHash,
      channel_id: interaction.channelId,
      request: interaction.sealedRequest,
      expires_at: interaction.expiresAt,
    })
    .execute()
}

export async function recordInteractionLogin(db: Executor, id: string, userId: string, authTime: Date): Promise<void> {
  await db.updateTable('interactions').set({ user_id: userId, auth_time: authTime }).where('id', '=', id).execute()
}

/** Deletes the interaction; false when it was already gone (a form submitted twice). */
export async function finishInteraction(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('interactions').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/**
 * Expired interactions are kept a while, so a late form gets the "expired" page, then deleted:
 * those a user logged in to until `before`, anonymous ones (anybody can start them, so they are
 * kept briefly) until `anonymousBefore`.
 */
export async function deleteExpiredInteractions(
  db: Executor,
  before: Date,
  batchSize: number,
  anonymousBefore: Date = before,
): Promise<number> {
  const result = await db
    .deleteFrom('interactions')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('interactions')
        .select('id')
        .where((w) => w.or([w('expires_at', '<=', before), w.and([w('user_id', 'is', null), w('expires_at', '<=', anonymousBefore)])]))
        .limit(batchSize),
    )
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

export interface Completion {
  interactionId: string
  userId: string
  channelId: string
  /** The consent decision to record (the merged grant), or null when nothing was asked. */
  grant: { grantedItems: string[]; refusedItems: string[] } | null
  code: { hash: Uint8Array } & AuthorizationCode
  /** The browser session of the user: the code is issued only while it exists (see insertAuthorizationCode). */
  sessionId: string
  now: Date
  /** The consent decision's audit entry, written in the same statement. */
  audit?: AuditEvent
}

/**
 * Ends an interaction in one statement: deletes it, records the grant (or marks it used) and
 * stores the code — all only if the interaction still existed, so a form submitted twice issues
 * one code, and only while the user's browser session exists (locked FOR SHARE, as in
 * insertAuthorizationCode). Returns false when it was already gone.
 */
export async function completeInteraction(db: Executor, c: Completion): Promise<boolean> {
  const { code } = c
  const hasGrant = c.grant !== null
  const { rows } = await sql<{ done: number }>`
    WITH done AS (DELETE FROM interactions WHERE id = ${c.interactionId} AND EXISTS (SELECT 1 FROM sessions WHERE id = ${c.sessionId} FOR SHARE) RETURNING id),
    decided AS (
      INSERT INTO grants (user_id, channel_id, granted_items, refused_items, updated_at, last_used_at)
      SELECT ${c.userId}, ${c.channelId}, ${c.grant?.grantedItems ?? []}::text[], ${c.grant?.refusedItems ?? []}::text[], ${c.now}, ${c.now} FROM done WHERE ${hasGrant}
      ON CONFLICT (user_id, channel_id) DO UPDATE SET granted_items = EXCLUDED.granted_items, refused_items = EXCLUDED.refused_items,
        updated_at = EXCLUDED.updated_at, last_used_at = EXCLUDED.last_used_at
      RETURNING 1),
    touched AS (
      UPDATE grants SET last_used_at = ${c.now}
      WHERE user_id = ${c.userId} AND channel_id = ${c.channelId} AND NOT ${hasGrant} AND EXISTS (SELECT 1 FROM done)
      RETURNING 1),
    issued AS (
      INSERT INTO authorization_codes (code_hash, channel_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time, amr, token_family, expires_at)
      SELECT ${code.hash}, ${code.channelId}, ${code.userId}, ${code.redirectUri}, ${code.scopes}::text[], ${code.nonce}, ${code.codeChallenge},
             ${code.authTime}, ${code.amr}::text[], ${code.tokenFamily}, ${code.expiresAt} FROM done
      RETURNING 1),
    audited AS (
      INSERT INTO audit_log (actor_id, actor_kind, action, object_type, object_id, ip, details)
      SELECT ${c.audit?.actorId ?? null}::uuid, ${c.audit?.actorKind ?? 'user'}, ${c.audit?.action ?? ''}, ${c.audit?.objectType ?? null}, ${c.audit?.objectId ?? null},
             ${c.audit?.ip ?? null}, ${JSON.stringify(c.audit?.details ?? {})}::jsonb
      FROM done WHERE ${c.audit !== undefined}
      RETURNING 1)
    SELECT (SELECT count(*) FROM done)::int AS done`.execute(db)
  return rows[0]?.done === 1
}
