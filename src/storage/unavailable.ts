// Which errors mean "a store plusid depends on cannot be reached right now" (PostgreSQL down,
// restarting or out of connections; the Redis counters unreachable). Such a request is answered
// 503 temporarily_unavailable (RFC 6749 §4.1.2.1, §5.2) and is worth retrying; anything else is a
// bug and stays a 500. The error handlers ask isUnavailable(); nothing else classifies them.

/** What a 503 tells clients to wait: a restart or failover usually takes seconds. */
export const RETRY_AFTER_SECONDS = 5

/** Thrown by stores that are not PostgreSQL (the Redis counters) when they cannot answer. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}

// Socket errors of a connection that could not be made or was lost.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
// SQLSTATEs: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
// shutting down), 53300 too_many_connections, 57014 query_canceled (our 10 s statement timeout: an
// overloaded or locked database, worth a retry); and class 08, connection exceptions.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014'])
// node-postgres reports these without a code: a connection lost mid-query, the pool's wait for a
// connection timing out (5 s), a client whose connection already failed. PGlite: closed under us.
const MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /is not queryable/, /^PGlite is closed/]

export function isUnavailable(error: unknown): boolean {
  // A wrapped error (Kysely, a transaction's rollback) keeps the connection error as its cause.
  for (let depth = 0; error instanceof Error && depth < 5; depth++, error = error.cause) {
    if (error instanceof StoreUnavailableError) return true
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true
    if (MESSAGES.some((pattern) => pattern.test(error instanceof Error ? error.message : ''))) return true
    if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true
  }
  return false
}
