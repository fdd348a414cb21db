// What an authorization request needs next (OIDC Core §3.1.2.1 prompt and max_age, §3.1.2.6
// login_required and consent_required for prompt=none; RFC 8252 §8.6: a public channel's user
// always sees the consent page before personal data goes out). No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OAuthError } from '../../src/oauth/errors.ts'
import { grantedScopes, nextStep, type DecisionInput } from '../../src/oauth/interaction.ts'

const NOW = new Date('2026-12-01T12:00:00Z')
const session = { userId: 'u1', authTime: new Date(NOW.getTime() - 600_000) }
const fullGrant = { grantedItems: ['openid', 'profile', 'email'], refusedItems: [] }

function input(overrides: Partial<DecisionInput> & { prompt?: DecisionInput['request']['prompt']; maxAge?: number } = {}): DecisionInput {
  const { prompt = [], maxAge, ...rest } = overrides
  return {
    request: { scopes: ['openid', 'profile', 'email'], prompt, maxAge },
    channelIsPublic: false,
    session,
    loggedInNow: false,
    hintMismatch: false,
    mayUseChannel: true,
    grant: fullGrant,
    now: NOW,
    ...rest,
  }
}

function errorCode(value: DecisionInput): string {
  try {
    nextStep(value)
  } catch (error) {
    assert.ok(error instanceof OAuthError)
    return error.code
  }
  assert.fail('no error')
}

test('a logged-in user with a grant covering the request gets a code, amr linesso (the session was reused)', () => {
  assert.deepEqual(nextStep(input()), { step: 'issue', scopes: ['openid', 'profile', 'email'], amr: ['linesso'] })
  assert.deepEqual(nextStep(input({ loggedInNow: true })), { step: 'issue', scopes: ['openid', 'profile', 'email'], amr: ['pwd'] })
})

test('no session, a hint naming someone else, prompt=login or a too old login: log in', () => {
  assert.deepEqual(nextStep(input({ session: null })), { step: 'login' })
  assert.deepEqual(nextStep(input({ hintMismatch: true })), { step: 'login' })
  assert.deepEqual(nextStep(input({ prompt: ['login'] })), { step: 'login' })
  assert.deepEqual(nextStep(input({ maxAge: 599 })), { step: 'login' })
  assert.equal(nextStep(input({ maxAge: 600 })).step, 'issue')
  // Having just logged in within this interaction satisfies prompt=login and max_age.
  assert.equal(nextStep(input({ prompt: ['login'], loggedInNow: true })).step, 'issue')
})

test('OIDC Core §3.1.2.6: prompt=none answers login_required or consent_required instead of a page', () => {
  assert.equal(errorCode(input({ prompt: ['none'], session: null })), 'login_required')
  assert.equal(errorCode(input({ prompt: ['none'], maxAge: 1 })), 'login_required')
  assert.equal(errorCode(input({ prompt: ['none'], grant: null })), 'consent_required')
  assert.equal(nextStep(input({ prompt: ['none'] })).step, 'issue')
})

test('consent: undecided items, prompt=consent, or a required scope not yet granted', () => {
  assert.deepEqual(nextStep(input({ grant: null })), { step: 'consent', undecided: ['email'] })
  assert.deepEqual(nextStep(input({ prompt: ['consent'] })), { step: 'consent', undecided: [] })
  assert.equal(nextStep(input({ grant: { grantedItems: ['email'], refusedItems: [] } })).step, 'consent')
})

test('a refused item is decided: no consent page, and it is not in the scopes issued', () => {
  const grant = { grantedItems: ['openid', 'profile'], refusedItems: ['email'] }
  assert.deepEqual(nextStep(input({ grant })), { step: 'issue', scopes: ['openid', 'profile'], amr: ['linesso'] })
  assert.deepEqual(grantedScopes(['openid', 'profile', 'email', 'phone'], { grantedItems: ['phone'], refusedItems: ['email'] }), [
    'openid',
    'profile',
    'phone',
  ])
})

test('RFC 8252 §8.6: a public channel asking for personal data always shows the consent page', () => {
  assert.equal(nextStep(input({ channelIsPublic: true })).step, 'consent')
  assert.equal(
    nextStep(input({ channelIsPublic: true, request: { scopes: ['openid', 'profile'], prompt: [], maxAge: undefined } })).step,
    'issue',
  )
})

test('a channel in development refuses users who are not its developers or testers', () => {
  assert.equal(errorCode(input({ mayUseChannel: false })), 'access_denied')
})
