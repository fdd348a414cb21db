// Scope parsing (RFC 6749 §3.3: space-delimited, case-sensitive values whose order does not matter;
// an unknown one is invalid_scope) with LINE's rules: openid or profile is required, and data items
// travel in the ID token, so they need openid. No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OAuthError } from '../../src/oauth/errors.ts'
import { DATA_ITEMS, MAX_SCOPE_LENGTH, MAX_SCOPE_VALUES, isDataItem, parseScope, unpermittedItems } from '../../src/oauth/scopes.ts'

function scopeError(scope: string): OAuthError {
  try {
    parseScope(scope)
  } catch (error) {
    assert.ok(error instanceof OAuthError)
    return error
  }
  assert.fail(`${JSON.stringify(scope)} was accepted`)
}

test('RFC 6749 §3.3: space-delimited values, request order kept, duplicates and extra spaces dropped', () => {
  assert.deepEqual(parseScope('openid profile email'), ['openid', 'profile', 'email'])
  assert.deepEqual(parseScope('email  openid openid'), ['email', 'openid'])
  assert.deepEqual(parseScope(' profile '), ['profile'])
})

test('RFC 6749 §3.3: values are case-sensitive and an unknown one is invalid_scope', () => {
  assert.equal(scopeError('openid Email').code, 'invalid_scope')
  assert.match(scopeError('openid friends').description, /unsupported scope: friends/)
})

test('offline_access is accepted and ignored (refresh tokens are always issued)', () => {
  assert.deepEqual(parseScope('openid offline_access'), ['openid'])
})

test('openid or profile is required; a data item requires openid', () => {
  assert.match(scopeError('email').description, /openid or profile/)
  assert.match(scopeError('profile real_name phone').description, /real_name phone requires the openid scope/)
  assert.deepEqual(parseScope('profile'), ['profile'])
})

test('bounded: at most MAX_SCOPE_LENGTH characters and MAX_SCOPE_VALUES values', () => {
  assert.match(scopeError('openid' + ' '.repeat(MAX_SCOPE_LENGTH)).description, /at most 1024 characters/)
  assert.match(
    scopeError(
      Array(MAX_SCOPE_VALUES + 1)
        .fill('openid')
        .join(' '),
    ).description,
    /at most 32 values/,
  )
  assert.deepEqual(parseScope(Array(MAX_SCOPE_VALUES).fill('openid').join(' ')), ['openid'])
})

test('data items are email and the six Profile+ items, never openid or profile', () => {
  assert.deepEqual([...DATA_ITEMS], ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address'])
  assert.equal(isDataItem('openid'), false)
  assert.equal(isDataItem('profile'), false)
  assert.equal(isDataItem('address'), true)
})

test('permissions fail closed: every requested data item not approved is named', () => {
  assert.deepEqual(unpermittedItems(['openid', 'profile', 'email', 'phone', 'address'], ['email']), ['phone', 'address'])
  assert.deepEqual(unpermittedItems(['openid', 'profile'], []), [])
})
