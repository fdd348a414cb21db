// Parameters at the protocol edge: zod failures become invalid_request naming the parameter.
import type { z } from 'zod'
import { OAuthError } from '../oauth/errors.ts'

export function parseParams<T>(schema: z.ZodType<T, unknown>, input: unknown): T {
  const result = schema.safeParse(input ?? {})
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const name = issue.path.map(String).join('.')
  // A parameter sent twice arrives as an array (RFC 6749 §3.1: MUST NOT be repeated).
  const repeated = issue.code === 'invalid_type' && Array.isArray((input as Record<string, unknown> | undefined)?.[name])
  throw new OAuthError(
    'invalid_request',
    repeated ? `${name} was given more than once` : name ? `${name}: ${issue.message}` : issue.message,
  )
}
