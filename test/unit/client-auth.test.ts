// Channel authentication: client_secret_basic with both halves form-decoded (RFC 6749 §2.3.1),
// client_secret_post, none for public channels; one method per request (RFC 6749 §2.3); one
// answer for every failure, so channel ids cannot be probed. No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CLIENT_AUTHENTICATION_FAILED, readClientCredentials, verifyChannelCredentials } from '../../src/oauth/client-auth.ts'
import { OAuthError } from '../../src/oauth/errors.ts'
import { nativeChannel, WEB_SECRET, webChannel } from './channel.ts'

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64')

function failure(fn: () => unknown): OAuthError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof OAuthError, String(error))
    return error
  }
  assert.fail('accepted')
}

test('RFC 6749 §2.3.1: Basic credentials are form-decoded, both halves', () => {
  assert.deepEqual(readClientCredentials(basic('1234567890', 'se%3Acret+x'), {}), {
    clientId: '1234567890',
    secret: 'se:cret x',
    method: 'client_secret_basic',
  })
  assert.deepEqual(readClientCredentials('basic ' + Buffer.from('1234567890:').toString('base64'), {}), {
    clientId: '1234567890',
    secret: '',
    method: 'client_secret_basic',
  })
})

test('client_secret_post and none', () => {
  assert.deepEqual(readClientCredentials(undefined, { client_id: '1234567890', client_secret: 's' }), {
    clientId: '1234567890',
    secret: 's',
    method: 'client_secret_post',
  })
  assert.deepEqual(readClientCredentials(undefined, { client_id: '2234567890' }), {
    clientId: '2234567890',
    secret: undefined,
    method: 'none',
  })
})

test('RFC 6749 §2.3: one method only; a client_id in the body must agree with Basic', () => {
  assert.equal(failure(() => readClientCredentials(basic('1234567890', 's'), { client_secret: 's' })).code, 'invalid_request')
  assert.equal(failure(() => readClientCredentials(basic('1234567890', 's'), { client_id: '9999999999' })).code, 'invalid_request')
  assert.deepEqual(readClientCredentials(basic('1234567890', 's'), { client_id: '1234567890' }).method, 'client_secret_basic')
})

test('malformed or missing credentials are invalid_client; repeated ones invalid_request (RFC 6749 §3.1)', () => {
  assert.equal(failure(() => readClientCredentials('Basic ' + Buffer.from('no-colon').toString('base64'), {})).code, 'invalid_client')
  assert.equal(failure(() => readClientCredentials(basic('%E0%A4%A', 's'), {})).code, 'invalid_client')
  assert.equal(failure(() => readClientCredentials(undefined, {})).description, CLIENT_AUTHENTICATION_FAILED)
  assert.equal(failure(() => readClientCredentials(undefined, { client_id: ['a', 'b'] })).code, 'invalid_request')
})

test('a confidential channel needs its secret; every failure gives the one answer', () => {
  const channel = webChannel()
  assert.equal(verifyChannelCredentials(channel, { clientId: channel.id, secret: WEB_SECRET, method: 'client_secret_post' }), channel)
  const failures = [
    () => verifyChannelCredentials(channel, { clientId: channel.id, secret: 'wrong', method: 'client_secret_post' }),
    () => verifyChannelCredentials(channel, { clientId: channel.id, secret: undefined, method: 'none' }),
    () => verifyChannelCredentials(channel, { clientId: channel.id, secret: '', method: 'client_secret_basic' }),
    () => verifyChannelCredentials(undefined, { clientId: '9999999999', secret: WEB_SECRET, method: 'client_secret_post' }),
    // A channel read for another id (a joined read) is not the one the credentials name.
    () => verifyChannelCredentials(channel, { clientId: '9999999999', secret: WEB_SECRET, method: 'client_secret_post' }),
  ]
  for (const fn of failures) {
    const error = failure(fn)
    assert.equal(error.code, 'invalid_client')
    assert.equal(error.description, CLIENT_AUTHENTICATION_FAILED)
  }
})

test('a public channel presents no secret; one sent is refused like a wrong one', () => {
  const channel = nativeChannel()
  assert.equal(verifyChannelCredentials(channel, { clientId: channel.id, secret: undefined, method: 'none' }), channel)
  assert.equal(verifyChannelCredentials(channel, { clientId: channel.id, secret: '', method: 'client_secret_post' }), channel)
  assert.equal(
    failure(() => verifyChannelCredentials(channel, { clientId: channel.id, secret: 'guess', method: 'client_secret_post' })).description,
    CLIENT_AUTHENTICATION_FAILED,
  )
})
