// Bearer tokens (RFC 6750): in the Authorization header (§2.1, scheme case-insensitive per RFC
// 9110 §11.1) or, for POST, the access_token form field (§2.2) — "MUST NOT use more than one
// method" (§2). No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bearerToken } from '../../src/oauth/bearer.ts'
import { OAuthError } from '../../src/oauth/errors.ts'

test("RFC 6750 §2.1: the header, whatever the scheme's case", () => {
  assert.equal(bearerToken('Bearer abc', undefined), 'abc')
  assert.equal(bearerToken('bearer abc', {}), 'abc')
  assert.equal(bearerToken('BEARER  abc ', {}), 'abc')
})

test('RFC 6750 §2.2: the form field', () => {
  assert.equal(bearerToken(undefined, { access_token: 'abc' }), 'abc')
})

test('none: undefined; another scheme is not a bearer token', () => {
  assert.equal(bearerToken(undefined, undefined), undefined)
  assert.equal(bearerToken('Basic eDp5', {}), undefined)
})

test('RFC 6750 §2: both places, or the field twice, is invalid_request', () => {
  for (const [header, body] of [
    ['Bearer abc', { access_token: 'abc' }],
    [undefined, { access_token: ['a', 'b'] }],
  ] as const) {
    assert.throws(
      () => bearerToken(header, body),
      (error) => error instanceof OAuthError && error.code === 'invalid_request',
    )
  }
})
