// Opaque keyset cursors for the administrators' lists: base64url of the last row's sort key.
import { z } from 'zod'

/**
 * A cursor this server did not issue (not base64url JSON of the expected shape, an id that is not
 * one, a date PostgreSQL cannot hold) is refused with 400 — reading it as "none" would hide the
 * mistake, and passing it on gave a 500.
 */
export class BadCursor extends Error {
  readonly statusCode = 400
  readonly code = 'PLUSID_BAD_CURSOR'
  constructor() {
    super('cursor is not one this server issued: use the "next" value of the previous page')
  }
}

export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

// Within what PostgreSQL's timestamptz and JavaScript's Date both hold.
const cursorDate = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((d) => d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999)
export const ChannelAfterCursor = z.object({ createdAt: cursorDate, id: z.string().regex(/^\d{10}$/) }).strict()
export const UuidAfterCursor = z.object({ createdAt: cursorDate, id: z.uuid() }).strict()
export const NameCursor = z.object({ name: z.string().max(400), id: z.string().regex(/^\d{10}$/) }).strict()

export function decodeCursor<T>(cursor: unknown, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined || cursor === '') return undefined
  if (typeof cursor !== 'string' || cursor.length > 800 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new BadCursor()
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString())
  } catch {
    throw new BadCursor()
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new BadCursor()
  return parsed.data
}

/** The cursor after the last of a full page, else null (no further page). */
export function nextCursor<T>(rows: readonly T[], limit: number, key: (last: T) => unknown): string | null {
  const last = rows[rows.length - 1]
  return rows.length === limit && last !== undefined ? encodeCursor(key(last)) : null
}
