// The authorization request, parsed in two steps. First the channel and redirect_uri: until both
// are verified no error may be redirected (RFC 6749 §4.1.2.1), so their errors are pages. Then
// everything else, whose errors are OAuthErrors for the verified callback: response_type (RFC
// 6749 §4.1.1, §4.1.2.1), parameters given once (§3.1), PKCE (RFC 7636 §4.3, §4.4.1; RFC 9700
// §2.1.1), state (RFC 9700 §2.1), request objects (OIDC Core §6), prompt and max_age (OIDC Core
// §3.1.2.1). No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AuthorizationPageError, callbackWith, resolveChannelAndCallback, validateAuthorizationRequest } from '../../src/oauth/authorize.ts'
import { OAuthError, PermissionMissing } from '../../src/oauth/errors.ts'
import type { Channel } from '../../src/storage/channels.ts'
import { nativeChannel, webChannel } from './channel.ts'

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
const base = {
  client_id: '1234567890',
  redirect_uri: 'https://shop.example/callback',
  response_type: 'code',
  scope: 'openid profile',
  state: 's-1',
}

function pageError(params: Record<string, unknown>, channel: Channel | null = webChannel()): string {
  try {
    resolveChannelAndCallback(params, channel ?? undefined)
  } catch (error) {
    assert.ok(error instanceof AuthorizationPageError, String(error))
    return error.key
  }
  assert.fail('resolved')
}

function validate(params: Record<string, unknown>, channel: Channel = webChannel()) {
  return validateAuthorizationRequest(params, resolveChannelAndCallback(params, channel))
}

function oauthError(params: Record<string, unknown>, channel: Channel = webChannel()): OAuthError {
  try {
    validate(params, channel)
  } catch (error) {
    assert.ok(error instanceof OAuthError, String(error))
    return error
  }
  assert.fail('validated')
}

test('RFC 6749 §4.1.2.1: a missing, repeated or unknown client_id is a page, never a redirect', () => {
  assert.equal(pageError({ ...base, client_id: undefined }), 'authorize.noClientId')
  assert.equal(pageError({ ...base, client_id: '' }), 'authorize.noClientId')
  assert.equal(pageError({ ...base, client_id: ['1234567890', '1234567890'] }), 'authorize.repeatedClientId')
  assert.equal(pageError(base, null), 'authorize.unknownClient')
})

test('RFC 6749 §4.1.2.1: a missing, repeated or unregistered redirect_uri is a page, never a redirect', () => {
  assert.equal(pageError({ ...base, redirect_uri: undefined }), 'authorize.noRedirectUri')
  assert.equal(pageError({ ...base, redirect_uri: [base.redirect_uri, base.redirect_uri] }), 'authorize.repeatedRedirectUri')
  assert.equal(pageError({ ...base, redirect_uri: 'https://evil.example/callback' }), 'authorize.unregisteredRedirectUri')
})

test("once verified, the response goes to the callback with state and the channel's error style", () => {
  const target = resolveChannelAndCallback({ ...base, response_mode: 'form_post' }, webChannel({ errorStyle: 'line' }))
  assert.equal(target.redirectUri, base.redirect_uri)
  assert.equal(target.responseMode, 'form_post')
  assert.equal(target.state, 's-1')
  assert.equal(target.errorStyle, 'line')
  assert.equal(resolveChannelAndCallback(base, webChannel()).responseMode, 'query')
})

test('a valid request is parsed', () => {
  const request = validate({
    ...base,
    scope: 'openid profile email',
    nonce: 'n',
    prompt: 'login consent',
    max_age: '600',
    login_hint: 'h@example.com',
    ui_locales: 'en',
  })
  assert.deepEqual(request.scopes, ['openid', 'profile', 'email'])
  assert.deepEqual(request.prompt, ['login', 'consent'])
  assert.equal(request.maxAge, 600)
  assert.equal(request.nonce, 'n')
  assert.equal(request.clientId, '1234567890')
  assert.equal(request.loginHint, 'h@example.com')
  assert.equal(request.uiLocales, 'en')
})

test('RFC 6749 §4.1.1: response_type is required and must be code', () => {
  assert.equal(oauthError({ ...base, response_type: undefined }).code, 'invalid_request')
  assert.equal(oauthError({ ...base, response_type: 'token' }).code, 'unsupported_response_type')
  assert.equal(oauthError({ ...base, response_type: 'code id_token' }).code, 'unsupported_response_type')
  assert.equal(oauthError({ ...base, response_mode: 'fragment' }).code, 'invalid_request')
})

test('RFC 6749 §3.1: a parameter given twice is invalid_request', () => {
  for (const name of ['scope', 'state', 'nonce', 'response_type', 'code_challenge', 'prompt']) {
    const error = oauthError({ ...base, code_challenge: CHALLENGE, code_challenge_method: 'S256', [name]: ['a', 'b'] })
    assert.equal(error.code, 'invalid_request', name)
    assert.match(error.description, new RegExp(`${name} was given more than once`))
  }
})

test('RFC 7636 §4.3, §4.4.1: S256 only, a well-formed challenge, no method without a challenge', () => {
  assert.equal(validate({ ...base, code_challenge: CHALLENGE, code_challenge_method: 'S256' }).codeChallenge, CHALLENGE)
  assert.match(oauthError({ ...base, code_challenge: CHALLENGE }).description, /must be S256/) // absent method means plain
  assert.match(oauthError({ ...base, code_challenge: CHALLENGE, code_challenge_method: 'plain' }).description, /must be S256/)
  assert.match(oauthError({ ...base, code_challenge: 'short', code_challenge_method: 'S256' }).description, /43 base64url/)
  assert.match(oauthError({ ...base, code_challenge_method: 'S256' }).description, /without code_challenge/)
})

test('RFC 9700 §2.1.1: public channels, and channels that require it, must use PKCE', () => {
  const native = { ...base, client_id: '2234567890', redirect_uri: 'http://127.0.0.1:8080/cb' }
  assert.match(oauthError(native, nativeChannel()).description, /code_challenge is required/)
  assert.equal(validate({ ...native, code_challenge: CHALLENGE, code_challenge_method: 'S256' }, nativeChannel()).codeChallenge, CHALLENGE)
  assert.match(oauthError(base, webChannel({ requirePkce: true })).description, /code_challenge is required/)
})

test('RFC 9700 §2.1: state is required unless PKCE protects the callback', () => {
  assert.equal(oauthError({ ...base, state: undefined }).description, "'state' is not specified")
  assert.equal(oauthError({ ...base, state: '' }).description, "'state' is not specified")
  assert.equal(validate({ ...base, state: undefined, code_challenge: CHALLENGE, code_challenge_method: 'S256' }).state, undefined)
})

test('state and nonce are at most 2,048 characters', () => {
  assert.equal(validate({ ...base, state: 'x'.repeat(2048) }).state?.length, 2048)
  assert.match(oauthError({ ...base, state: 'x'.repeat(2049) }).description, /state must be at most 2048/)
  assert.match(oauthError({ ...base, nonce: 'x'.repeat(2049) }).description, /nonce must be at most 2048/)
})

test('scope is required, parsed, and items without an approved permission fail closed', () => {
  assert.equal(oauthError({ ...base, scope: undefined }).code, 'invalid_scope')
  assert.equal(oauthError({ ...base, scope: '  ' }).code, 'invalid_scope')
  const missing = oauthError({ ...base, scope: 'openid email phone address' }, webChannel({ approvedItems: ['email'] }))
  assert.ok(missing instanceof PermissionMissing)
  assert.deepEqual(missing.items, ['phone', 'address'])
})

test('OIDC Core §6: request and request_uri are refused with their own codes', () => {
  assert.equal(oauthError({ ...base, request: 'eyJ...' }).code, 'request_not_supported')
  assert.equal(oauthError({ ...base, request_uri: 'https://x' }).code, 'request_uri_not_supported')
})

test('OIDC Core §3.1.2.1: prompt values are known and none stands alone; max_age is whole seconds', () => {
  assert.deepEqual(validate({ ...base, prompt: 'none' }).prompt, ['none'])
  assert.match(oauthError({ ...base, prompt: 'none login' }).description, /prompt=none cannot be combined/)
  assert.match(oauthError({ ...base, prompt: 'sometimes' }).description, /unsupported prompt value: sometimes/)
  assert.equal(validate({ ...base, max_age: '0' }).maxAge, 0)
  for (const bad of ['-1', '1.5', '1e3', '', '12345678901']) assert.match(oauthError({ ...base, max_age: bad }).description, /max_age/, bad)
})

test('a suspended channel is access_denied', () => {
  assert.equal(oauthError(base, webChannel({ suspendedAt: new Date() })).code, 'access_denied')
})

test('RFC 6749 §3.1.2: the response parameters are added to the callback, its own query kept', () => {
  assert.equal(
    callbackWith('https://shop.example/cb?from=plusid', { code: 'c', state: 'a b&c', iss: undefined }),
    'https://shop.example/cb?from=plusid&code=c&state=a+b%26c',
  )
})
