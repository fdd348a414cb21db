// The Profile+ item registry: every consumer's view of an item comes from one entry, so the views
// must agree with each other. A full profile goes through each pair of directions and comes back
// unchanged: columns (storage, key rotation), the editor's form, and claims (export, --profile).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { english } from '../../src/i18n/index.ts'
import { ITEM_LABEL_KEYS, FORM_FIELDS, describeItem } from '../../src/profile/labels.ts'
import {
  PROFILE_COLUMNS,
  PROFILE_ITEMS,
  profileItem,
  profileValueAad,
  type ProfileColumnValues,
  type ProfilePlus,
} from '../../src/profile/items.ts'
import {
  claimsToForm,
  ITEM_FIELDS,
  PROFILE_FIELDS,
  profileToClaims,
  profileToForm,
  validateProfileForm,
} from '../../src/profile/profile.ts'

const hanako: ProfilePlus = {
  realName: { familyName: '山田', givenName: '花子', middleName: 'M', familyNamePronunciation: 'ヤマダ', givenNamePronunciation: 'ハナコ' },
  gender: 'female',
  birthdate: '1990-01-31',
  phoneNumber: '+819012345678',
  address: { postalCode: '1028282', region: '東京都', locality: '千代田区紀尾井町', streetAddress: '1番3号', country: 'JP' },
}
const now = () => new Date('2026-12-01T00:00:00Z')

test('the five Profile+ items, in the order pages list them', () => {
  assert.deepEqual([...PROFILE_ITEMS], ['real_name', 'gender', 'birthdate', 'phone', 'address'])
})

test('every column is claimed by exactly one item and sealed with its column and user as associated data', () => {
  assert.equal(new Set(PROFILE_COLUMNS).size, PROFILE_COLUMNS.length)
  assert.equal(PROFILE_COLUMNS.length, 13)
  assert.equal(profileValueAad('u1', 'postal_code'), 'profiles.postal_code:u1')
})

test('columns: an item written and read back is the same value; a cleared item writes every column null', () => {
  for (const item of PROFILE_ITEMS) {
    const definition = profileItem(item)
    const columns = Object.fromEntries(PROFILE_COLUMNS.map((column) => [column, null])) as ProfileColumnValues
    Object.assign(columns, definition.toColumns(hanako[definition.key]))
    assert.deepEqual(definition.fromColumns(columns), hanako[definition.key], item)
    const cleared = definition.toColumns(null)
    assert.deepEqual(Object.keys(cleared).sort(), definition.fields.map((field) => field.column).sort(), item)
    assert.ok(
      Object.values(cleared).every((value) => value === null),
      item,
    )
  }
})

test('the editor: the stored profile shown as a form and saved again is unchanged', () => {
  const result = validateProfileForm(profileToForm(hanako), PROFILE_ITEMS, now)
  assert.deepEqual(result, { ok: true, profile: hanako })
})

test("export and --profile: the claims read back through the editor's rules give the same profile", () => {
  const claims = profileToClaims(hanako)
  assert.deepEqual(Object.keys(claims), [
    'family_name',
    'given_name',
    'family_name_pronunciation',
    'given_name_pronunciation',
    'middle_name',
    'gender',
    'birthdate',
    'phone_number',
    'address',
  ])
  const { form, errors } = claimsToForm(claims)
  assert.deepEqual(errors, {})
  assert.deepEqual(validateProfileForm(form, PROFILE_ITEMS, now), { ok: true, profile: hanako })
})

test('--profile: unknown claims and address members are named, with the members listed', () => {
  const { errors } = claimsToForm({ nickname: 'x', address: { zip: '1' } })
  assert.deepEqual(errors, {
    nickname: 'is not a Profile+ claim',
    'address.zip': 'is not an address member (postal_code, region, locality, street_address, country)',
  })
  assert.equal(
    claimsToForm({ address: 'Tokyo' }).errors.address,
    'must be an object with postal_code, region, locality, street_address and country',
  )
})

test('an item with every field empty is cleared; one partly filled is required in full', () => {
  const cleared = validateProfileForm({ gender: ' ' }, ['gender'], now)
  assert.deepEqual(cleared, { ok: true, profile: { gender: null } })
  const partial = validateProfileForm({ family_name: '山田' }, ['real_name'], now)
  assert.equal(partial.ok, false)
  assert.deepEqual(Object.keys(partial.ok ? {} : partial.errors).sort(), [
    'family_name_pronunciation',
    'given_name',
    'given_name_pronunciation',
  ])
})

test('fields, labels and descriptions come from the registry for every item', () => {
  assert.deepEqual(FORM_FIELDS, PROFILE_FIELDS)
  for (const item of PROFILE_ITEMS) {
    assert.deepEqual(
      ITEM_FIELDS[item],
      profileItem(item).fields.map((field) => field.name),
    )
    assert.equal(ITEM_LABEL_KEYS[item], profileItem(item).label)
    assert.notEqual(english(profileItem(item).label), '')
    assert.equal(describeItem('en', { ...hanako, [profileItem(item).key]: null }, item), null)
    assert.ok(describeItem('en', hanako, item), item)
  }
  assert.equal(describeItem('ja', hanako, 'address'), '〒102-8282 東京都千代田区紀尾井町1番3号')
})
