// RFC 7636 (PKCE), S256 only: verifier syntax (§4.1), the S256 transformation (§4.2, §4.6) and
// the challenge's shape. No HTTP, no database.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { CODE_CHALLENGE, CODE_VERIFIER, verifierMatches } from '../../src/oauth/pkce.ts'

// RFC 7636 Appendix B: the worked example.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

test('RFC 7636 Appendix B: the example verifier matches its S256 challenge', () => {
  assert.equal(verifierMatches(CHALLENGE, VERIFIER), true)
})

test('RFC 7636 §4.6: another verifier, or the challenge itself as verifier (plain), does not match', () => {
  assert.equal(verifierMatches(CHALLENGE, VERIFIER.replace('d', 'e')), false)
  assert.equal(verifierMatches(CHALLENGE, CHALLENGE), false)
})

test('RFC 7636 §4.1: a verifier is 43–128 characters of [A-Za-z0-9-._~]', () => {
  assert.equal(CODE_VERIFIER.test('a'.repeat(43)), true)
  assert.equal(CODE_VERIFIER.test('a'.repeat(128)), true)
  assert.equal(CODE_VERIFIER.test('-._~' + 'Z9'.repeat(20)), true)
  assert.equal(CODE_VERIFIER.test('a'.repeat(42)), false)
  assert.equal(CODE_VERIFIER.test('a'.repeat(129)), false)
  assert.equal(CODE_VERIFIER.test('a'.repeat(42) + '+'), false)
  assert.equal(CODE_VERIFIER.test('a'.repeat(42) + '='), false)
})

test('RFC 7636 §4.1: a verifier outside the syntax never matches, even one whose hash would', () => {
  const short = 'short-verifier'
  const challenge = createHash('sha256').update(short).digest('base64url')
  assert.equal(verifierMatches(challenge, short), false)
})

test('RFC 7636 §4.2: an S256 challenge is 43 base64url characters without padding', () => {
  assert.equal(CODE_CHALLENGE.test(CHALLENGE), true)
  assert.equal(CODE_CHALLENGE.test(CHALLENGE + '='), false)
  assert.equal(CODE_CHALLENGE.test(CHALLENGE.slice(1)), false)
  assert.equal(CODE_CHALLENGE.test(CHALLENGE.replace('-', '+')), false)
})
