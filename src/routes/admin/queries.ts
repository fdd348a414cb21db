// What the administration pages and the JSON API both read from a request.
import { z } from 'zod'

export const PAGE = 50

export const AuditQuery = z.object({
  action: z.string().max(100).optional(),
  actor: z.string().uuid('error.userId').optional(),
  object: z.string().max(100).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'error.cursor')
    .optional(),
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'error.cursor')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(PAGE),
})

/** Empty form fields mean "no filter". */
export const emptyToUndefined = (query: unknown) =>
  Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, value]) => value !== ''))

export const filterOf = (q: z.output<typeof AuditQuery>) => ({ action: q.action, actorId: q.actor, objectId: q.object })

/** A search box's text, trimmed and bounded. */
export const searchText = (query: unknown, max: number) => {
  const q = (query as Record<string, unknown>).q
  return typeof q === 'string' ? q.trim().slice(0, max) : ''
}

/** The reason field of a suspension of one item: optional. */
export const optionalReason = (reason: unknown) => (typeof reason === 'string' && reason.trim() ? reason.trim() : null)

/** How a refused review step answers (console/review.ts ReviewError kinds). */
export const REVIEW_STATUS = { forbidden: 403, not_found: 404, conflict: 409, invalid: 400 } as const
