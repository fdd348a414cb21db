// The audit log: append-only (a trigger refuses UPDATE and DELETE). Pages are read newest first
// by keyset (id < cursor), which an index serves without counting or offsetting.
import { sql } from 'kysely'
import type { Executor } from './database.ts'
import type { AuditLogTable } from './schema.ts'

export type ActorKind = AuditLogTable['actor_kind']

export interface AuditEvent {
  actorId: string | null
  actorKind: ActorKind
  action: string
  objectType?: string | null
  objectId?: string | null
  ip?: string | null
  /** Item names, ids, reasons — never Profile+ values or secrets. */
  details?: Record<string, unknown>
}

export interface AuditEntry {
  id: string
  at: Date
  actorId: string | null
  actorKind: ActorKind
  action: string
  objectType: string | null
  objectId: string | null
  ip: string | null
  details: Record<string, unknown>
}

/** The one way a use case records what it did, inside its own transaction. */
export async function appendAudit(db: Executor, event: AuditEvent): Promise<void> {
  await auditInsert(event).execute(db)
}

/** The SQL of an audit insert, to be folded as a CTE into a hot-path statement (no extra round trip). */
export function auditInsert(event: AuditEvent) {
  return sql`INSERT INTO audit_log (actor_id, actor_kind, action, object_type, object_id, ip, details)
    VALUES (${event.actorId}, ${event.actorKind}, ${event.action}, ${event.objectType ?? null}, ${event.objectId ?? null}, ${event.ip ?? null}, ${JSON.stringify(event.details ?? {})}::jsonb)
    RETURNING id`
}

export interface AuditFilter {
  action?: string | undefined
  actorId?: string | undefined
  objectId?: string | undefined
}

export async function listAudit(
  db: Executor,
  filter: AuditFilter,
  page: { before?: string | undefined; limit: number },
): Promise<{ items: AuditEntry[]; next: string | null }> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
  if (filter.action) query = query.where('action', '=', filter.action)
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId)
  if (filter.objectId) query = query.where('object_id', '=', filter.objectId)
  if (page.before) query = query.where('id', '<', page.before)
  const rows = await query.execute()
  const items = rows.slice(0, page.limit).map((row) => ({
    id: String(row.id),
    at: row.at,
    actorId: row.actor_id,
    actorKind: row.actor_kind,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    ip: row.ip,
    details: row.details,
  }))
  return { items, next: rows.length > page.limit ? items[items.length - 1]!.id : null }
}
