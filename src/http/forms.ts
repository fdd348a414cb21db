// Reading HTML form posts: the body arrives as an object of strings (arrays for repeated fields);
// zod checks it and its issues become one message per field, shown next to that field.
import type { z } from 'zod'
import { issueMessage, type Translate } from '../i18n/index.ts'

export type FieldErrors = Record<string, string>

/** One translated message per field (the first issue of each), keyed by the field's path. */
export function fieldErrors(error: z.ZodError, t: Translate): FieldErrors {
  const errors: FieldErrors = {}
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.') || 'form'
    if (errors[field] === undefined) {
      const message = issueMessage(issue)
      errors[field] = t(message.key, message.params)
    }
  }
  return errors
}

/** A form body as an object: anything else (a JSON array, nothing) reads as an empty form. */
export function formBody(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
}

/** A field's text for redisplay: repeated or missing fields show as empty. */
export function textOf(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  return typeof value === 'string' ? value : ''
}
