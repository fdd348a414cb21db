// Claims released for the granted scopes (OIDC Core §5.4: scope values request claims; §5.1 for
// the standard claims' shapes, §5.1.1 for address), with LINE's Profile+ names. Only items
// granted and registered appear. No HTTP, no database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { scopeClaims, SUPPORTED_CLAIMS, type ClaimSource } from '../../src/oauth/claims.ts'

const hanako: ClaimSource = {
  displayName: 'Hanako',
  pictureUrl: 'https://img.example/h.png',
  email: 'hanako@example.com',
  profile: {
    realName: {
      familyName: '山田',
      givenName: '花子',
      middleName: null,
      familyNamePronunciation: 'ヤマダ',
      givenNamePronunciation: 'ハナコ',
    },
    gender: 'female',
    birthdate: '1990-01-31',
    phoneNumber: '+819012345678',
    address: { postalCode: '1028282', region: '東京都', locality: '千代田区紀尾井町', streetAddress: '1番3号', country: 'JP' },
  },
}

test('OIDC Core §5.4: openid alone releases no claim; profile releases name and picture', () => {
  assert.deepEqual(scopeClaims(['openid'], hanako), {})
  assert.deepEqual(scopeClaims(['openid', 'profile'], hanako), { name: 'Hanako', picture: 'https://img.example/h.png' })
  assert.deepEqual(scopeClaims(['profile'], { ...hanako, pictureUrl: null }), { name: 'Hanako' })
})

test('every item releases its claims, verified flags false (plusid verifies neither yet)', () => {
  const claims = scopeClaims(['openid', 'email', 'real_name', 'gender', 'birthdate', 'phone', 'address'], hanako)
  assert.deepEqual(claims, {
    email: 'hanako@example.com',
    email_verified: false,
    family_name: '山田',
    given_name: '花子',
    family_name_pronunciation: 'ヤマダ',
    given_name_pronunciation: 'ハナコ',
    gender: 'female',
    birthdate: '1990-01-31',
    phone_number: '+819012345678',
    phone_number_verified: false,
    // OIDC Core §5.1.1: the address claim is a JSON object with these members.
    address: { postal_code: '1028282', region: '東京都', locality: '千代田区紀尾井町', street_address: '1番3号', country: 'JP' },
  })
})

test('an item not granted releases nothing, even when the user registered it', () => {
  const claims = scopeClaims(['openid', 'phone'], hanako)
  assert.deepEqual(Object.keys(claims).sort(), ['phone_number', 'phone_number_verified'])
})

test('an item granted but not registered releases nothing (no empty claim)', () => {
  const empty: ClaimSource = { ...hanako, profile: { realName: null, gender: null, birthdate: null, phoneNumber: null, address: null } }
  assert.deepEqual(scopeClaims(['openid', 'real_name', 'gender', 'birthdate', 'phone', 'address'], empty), {})
})

test('middle_name appears only when registered', () => {
  const withMiddle = { ...hanako, profile: { ...hanako.profile, realName: { ...hanako.profile.realName!, middleName: 'M' } } }
  assert.equal(scopeClaims(['openid', 'real_name'], withMiddle).middle_name, 'M')
  assert.equal('middle_name' in scopeClaims(['openid', 'real_name'], hanako), false)
})

test('every claim that can be released is advertised in claims_supported', () => {
  const all = scopeClaims(['openid', 'profile', 'email', 'real_name', 'gender', 'birthdate', 'phone', 'address'], {
    ...hanako,
    profile: { ...hanako.profile, realName: { ...hanako.profile.realName!, middleName: 'M' } },
  })
  for (const claim of Object.keys(all)) assert.ok(SUPPORTED_CLAIMS.includes(claim), claim)
})
