// One error type for the whole protocol. The code is a closed union of RFC 6749 / OIDC / RFC
// 6750 codes; where the error travels (JSON, redirect, error page) is decided by the endpoint.

// A store that cannot be reached is the protocol's temporarily_unavailable (RFC 6749 §4.1.2.1,
// §5.2): the endpoints ask through here, the classification itself stays with the storage.
export { isUnavailable, RETRY_AFTER_SECONDS } from '../storage/unavailable.ts'

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'server_error'
  | 'temporarily_unavailable'

const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
}

export class OAuthError extends Error {
  override name = 'OAuthError'
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options?: ErrorOptions,
  ) {
    super(description, options)
  }

  get status(): number {
    return STATUS[this.code] ?? 400
  }
}

/**
 * RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. Descriptions
 * quote parameter values, so anything else is replaced rather than sent.
 */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 300)
}

/** invalid_scope because the channel lacks an approved permission: the console shows its owner which. */
export class PermissionMissing extends OAuthError {
  constructor(readonly items: string[]) {
    super('invalid_scope', `the channel is not permitted to request ${items.join(', ')}`)
  }
}
