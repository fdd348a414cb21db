// The provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): the required members, every
// endpoint under the issuer, and what plusid actually supports. No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { discoveryDocument } from '../../src/oauth/discovery.ts'
import { SUPPORTED_SCOPES } from '../../src/oauth/scopes.ts'

const doc = discoveryDocument('https://id.example')

test('OIDC Discovery §3: the REQUIRED members are present', () => {
  for (const member of [
    'issuer',
    'authorization_endpoint',
    'token_endpoint',
    'jwks_uri',
    'response_types_supported',
    'subject_types_supported',
    'id_token_signing_alg_values_supported',
  ]) {
    assert.ok(member in doc, member)
  }
  assert.equal(doc.issuer, 'https://id.example')
})

test('every endpoint is on the issuer', () => {
  for (const [name, value] of Object.entries(doc)) {
    if (name.endsWith('_endpoint') || name === 'jwks_uri') assert.ok(String(value).startsWith('https://id.example/'), name)
  }
})

test('what is advertised is what is supported: code flow, S256 only, pairwise subjects, the issuer in responses (RFC 9207)', () => {
  assert.deepEqual(doc.response_types_supported, ['code'])
  assert.deepEqual(doc.code_challenge_methods_supported, ['S256'])
  assert.deepEqual(doc.subject_types_supported, ['pairwise'])
  assert.deepEqual(doc.scopes_supported, [...SUPPORTED_SCOPES])
  assert.equal(doc.authorization_response_iss_parameter_supported, true)
  assert.equal(doc.request_parameter_supported, false)
  assert.equal(doc.request_uri_parameter_supported, false)
})
