// Complete flows with openid-client, a standard relying party, through the real HTML forms.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as client from 'openid-client'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { authorizeInBrowser, createTestChannel, createTestUser, relyingParty, startServer, WebBrowser } from '../helpers/oidc.ts'

test('a user unchecks phone and address: neither appears in the ID token nor in userinfo', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: channel.redirectUri,
    scope: 'openid profile email real_name gender birthdate phone address',
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const callback = await authorizeInBrowser(new WebBrowser(), issuer, url.href, { user, uncheck: ['phone', 'address'] })
  assert.equal(callback.searchParams.get('iss'), issuer)
  const tokens = await client.authorizationCodeGrant(rp, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  })
  const claims = tokens.claims()!
  assert.equal(claims.family_name, '山田')
  assert.equal(claims.family_name_pronunciation, 'ヤマダ')
  assert.equal(claims.birthdate, '1990-01-31')
  assert.equal(claims.gender, 'female')
  assert.equal(claims.email, user.email)
  assert.equal(claims.name, 'Hanako')
  assert.deepEqual(claims.amr, ['pwd'])
  assert.equal(typeof claims.auth_time, 'number')
  assert.match(claims.sub, /^U[0-9a-f]{32}$/)
  assert.equal(claims.phone_number, undefined)
  assert.equal(claims.address, undefined)
  assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256')
  const info = await client.fetchUserInfo(rp, tokens.access_token, claims.sub)
  assert.equal(info.family_name, '山田')
  assert.equal(info.phone_number, undefined)
  assert.equal(info.address, undefined)
  assert.equal(info.email, user.email)
  assert.ok(!JSON.stringify(info).includes('+8190'), 'the phone number appears nowhere')
  assert.equal(tokens.scope?.split(' ').sort().join(' '), 'birthdate email gender openid profile real_name')

  const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!)
  assert.equal(refreshed.refresh_token, tokens.refresh_token, 'a web channel keeps its refresh token (LINE)')
  assert.notEqual(refreshed.access_token, tokens.access_token)
  const again = await client.fetchUserInfo(rp, refreshed.access_token, claims.sub)
  assert.equal(again.phone_number, undefined)
  void decodeJwt
})
