// Callback URLs: registration rules (RFC 6749 §3.1.2: absolute, no fragment; RFC 9700 §4.1.3: no
// patterns; RFC 8252 §7.1 private-use schemes and §8.3 loopback http for native apps) and matching
// (exact string comparison, RFC 9700 §4.1.3; any port on a loopback IP literal for native apps
// only, RFC 8252 §7.3). No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { callbackUrlProblem, matchCallbackUrl } from '../../src/oauth/callback-urls.ts'

test('RFC 9700 §4.1.3: matching is exact string comparison', () => {
  const registered = ['https://shop.example/callback', 'https://shop.example/cb?from=plusid']
  assert.equal(matchCallbackUrl('https://shop.example/callback', registered, 'web'), true)
  assert.equal(matchCallbackUrl('https://shop.example/cb?from=plusid', registered, 'web'), true)
  for (const near of [
    'https://shop.example/callback/',
    'https://shop.example/Callback',
    'https://SHOP.example/callback',
    'https://shop.example:443/callback',
    'https://shop.example/callback?x=1',
    'https://shop.example/callback#x',
    'https://shop.example/cb',
    'http://shop.example/callback',
    'https://shop.example.evil/callback',
    'https://evil.example/?https://shop.example/callback',
  ]) {
    assert.equal(matchCallbackUrl(near, registered, 'web'), false, near)
  }
})

test('RFC 8252 §7.3: a native channel may vary the port of a loopback IP literal, nothing else', () => {
  const registered = ['http://127.0.0.1:8080/cb', 'http://[::1]/cb']
  assert.equal(matchCallbackUrl('http://127.0.0.1:51234/cb', registered, 'native'), true)
  assert.equal(matchCallbackUrl('http://127.0.0.1/cb', registered, 'native'), true)
  assert.equal(matchCallbackUrl('http://[::1]:9999/cb', registered, 'native'), true)
  assert.equal(matchCallbackUrl('http://127.0.0.1:51234/other', registered, 'native'), false)
  assert.equal(matchCallbackUrl('https://127.0.0.1:51234/cb', registered, 'native'), false)
  // "localhost" is not a loopback IP literal (RFC 8252 §8.3): no port leeway for it.
  assert.equal(matchCallbackUrl('http://localhost:51234/cb', ['http://localhost:8080/cb'], 'native'), false)
})

test('the loopback port leeway is for native channels only', () => {
  for (const kind of ['web', 'spa'] as const) {
    assert.equal(matchCallbackUrl('http://127.0.0.1:51234/cb', ['http://127.0.0.1:8080/cb'], kind), false, kind)
  }
})

test('registration: absolute https URLs, http only on loopback', () => {
  assert.equal(callbackUrlProblem('https://shop.example/callback', 'web'), null)
  assert.equal(callbackUrlProblem('http://localhost:3000/cb', 'web'), null)
  assert.equal(callbackUrlProblem('http://127.0.0.1:3000/cb', 'spa'), null)
  assert.equal(callbackUrlProblem('http://shop.example/callback', 'web'), 'callback.httpOnlyLoopback')
  assert.equal(callbackUrlProblem('/callback', 'web'), 'callback.notAbsolute')
  assert.equal(callbackUrlProblem('javascript:alert(1)', 'web'), 'callback.https')
  assert.equal(callbackUrlProblem('data:text/html,x', 'web'), 'callback.https')
})

test('RFC 6749 §3.1.2: no fragment; RFC 9700 §4.1.3: no wildcard; no credentials, nothing invisible, bounded', () => {
  assert.equal(callbackUrlProblem('https://shop.example/cb#frag', 'web'), 'callback.fragment')
  assert.equal(callbackUrlProblem('https://shop.example/cb#', 'web'), 'callback.fragment')
  assert.equal(callbackUrlProblem('https://*.shop.example/cb', 'web'), 'callback.wildcard')
  assert.equal(callbackUrlProblem('https://user:pass@shop.example/cb', 'web'), 'callback.credentials')
  assert.equal(callbackUrlProblem('https://shop.example/c\u202Eb', 'web'), 'callback.invisible')
  assert.equal(callbackUrlProblem('https://shop.example/c b', 'web'), 'callback.invisible')
  assert.equal(callbackUrlProblem('https://shop.example/' + 'a'.repeat(2000), 'web'), 'callback.tooLong')
})

test('RFC 8252 §7.1: a private-use scheme in reverse domain notation, for native channels only', () => {
  assert.equal(callbackUrlProblem('com.example.app:/oauth2redirect', 'native'), null)
  assert.equal(callbackUrlProblem('com.example.app:/oauth2redirect', 'web'), 'callback.https')
  assert.equal(callbackUrlProblem('myapp:/cb', 'native'), 'callback.https')
})
