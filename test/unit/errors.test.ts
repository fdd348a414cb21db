// The one protocol error type: its status table (RFC 6749 §5.2: 400, and 401 for invalid_client;
// RFC 6750 §3.1: 401 invalid_token, 403 insufficient_scope; RFC 6749 §4.1.2.1: server_error and
// temporarily_unavailable) and the character set of error_description (RFC 6749 §5.2).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OAuthError, PermissionMissing, safeDescription, type OAuthErrorCode } from '../../src/oauth/errors.ts'

test('statuses: one table, 400 unless the RFC says otherwise', () => {
  const expected: Record<OAuthErrorCode, number> = {
    invalid_request: 400,
    invalid_client: 401,
    invalid_grant: 400,
    unauthorized_client: 400,
    unsupported_grant_type: 400,
    unsupported_response_type: 400,
    invalid_scope: 400,
    access_denied: 400,
    login_required: 400,
    consent_required: 400,
    interaction_required: 400,
    request_not_supported: 400,
    request_uri_not_supported: 400,
    invalid_token: 401,
    insufficient_scope: 403,
    unsupported_token_type: 400,
    server_error: 500,
    temporarily_unavailable: 503,
  }
  for (const [code, status] of Object.entries(expected)) {
    assert.equal(new OAuthError(code as OAuthErrorCode, 'x').status, status, code)
  }
})

test('an OAuthError carries its code, its description and the cause it was given', () => {
  const cause = new Error('inner')
  const error = new OAuthError('invalid_grant', 'code expired', { cause })
  assert.equal(error.code, 'invalid_grant')
  assert.equal(error.description, 'code expired')
  assert.equal(error.message, 'code expired')
  assert.equal(error.cause, cause)
  assert.equal(error.name, 'OAuthError')
})

test('RFC 6749 §5.2: error_description keeps %x20-21 / %x23-5B / %x5D-7E and replaces the rest', () => {
  assert.equal(safeDescription('unsupported scope: friends'), 'unsupported scope: friends')
  assert.equal(safeDescription('a "quoted" \\ value'), 'a ?quoted? ? value')
  assert.equal(safeDescription('名前\r\nSet-Cookie: x'), '????Set-Cookie: x')
  assert.equal(safeDescription('x'.repeat(1000)).length, 300)
})

test('PermissionMissing is invalid_scope naming the items the channel may not ask for', () => {
  const error = new PermissionMissing(['phone', 'address'])
  assert.ok(error instanceof OAuthError)
  assert.equal(error.code, 'invalid_scope')
  assert.equal(error.status, 400)
  assert.deepEqual(error.items, ['phone', 'address'])
  assert.match(error.description, /phone, address/)
})
