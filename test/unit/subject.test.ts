// Pairwise subject identifiers (OIDC Core §8.1): `U` + 32 lowercase hex, stable for a user within
// a provider, different across providers. No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pairwiseSubject } from '../../src/oauth/subject.ts'

const providerA = new Uint8Array(32).fill(1)
const providerB = new Uint8Array(32).fill(2)
const user = '00000000-0000-4000-8000-00000000000a'

test("the sub has LINE's shape: U and 32 lowercase hex characters", () => {
  assert.match(pairwiseSubject(providerA, user), /^U[0-9a-f]{32}$/)
})

test('OIDC Core §8.1: one sub per user and provider, stable; another provider sees another', () => {
  assert.equal(pairwiseSubject(providerA, user), pairwiseSubject(Uint8Array.from(providerA), user))
  assert.notEqual(pairwiseSubject(providerA, user), pairwiseSubject(providerB, user))
  assert.notEqual(pairwiseSubject(providerA, user), pairwiseSubject(providerA, user.replace('a', 'b')))
})
