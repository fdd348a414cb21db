// The audit log for administrators: filtered pages, newest first, and the whole (filtered) log
// as JSON lines.
import type { Executor } from '../storage/database.ts'
import { listAudit, type AuditEntry, type AuditFilter } from '../storage/audit.ts'

export type { AuditEntry, AuditFilter }

/** One page; `before` is the previous page's `next`. */
export function searchAudit(db: Executor, filter: AuditFilter, page: { before?: string | undefined; limit: number }) {
  return listAudit(db, filter, page)
}

/** An entry as the API and the export spell it. */
export function auditJson(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    actor: entry.actorId,
    actor_kind: entry.actorKind,
    action: entry.action,
    object: entry.objectId,
    object_type: entry.objectType,
    ip: entry.ip,
    details: entry.details,
  }
}

/** The whole filtered log as JSON lines, newest first, read page by page (at most a million lines). */
export async function exportAudit(db: Executor, filter: AuditFilter): Promise<string> {
  const lines: string[] = []
  let before: string | undefined
  do {
    const page = await listAudit(db, filter, { before, limit: 1000 })
    for (const entry of page.items) lines.push(JSON.stringify(auditJson(entry)))
    before = page.next ?? undefined
  } while (before && lines.length < 1_000_000)
  return lines.join('\n') + (lines.length ? '\n' : '')
}
