// The Profile+ editor through HTTP: each rule of docs/profile-claims.md with good and bad values, the
// normalised form that is stored, and "nothing saved when any field is invalid".
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { latestDateToday } from '../../src/profile/rules.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { profileAad } from '../../src/storage/profiles.ts'

const database = await testDatabase()

const VALID: Record<string, string> = {
  name: '花子',
  family_name: '山田',
  given_name: '花子',
  middle_name: '',
  family_name_pronunciation: 'ヤマダ',
  given_name_pronunciation: 'ハナコ',
  gender: 'female',
  birthdate: '1990-01-31',
  phone_number: '090-1234-5678',
  'address.postal_code': '102-8282',
  'address.region': '東京都',
  'address.locality': '千代田区紀尾井町',
  'address.street_address': '1番3号',
  'address.country': 'JP',
}

async function loggedIn(t: Parameters<typeof build>[0]) {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const userId = (
    await database.db
      .selectFrom('sessions')
      .select('user_id')
      .where('id', '=', browser.cookies.get('plusid_session')!.split('.')[0]!)
      .executeTakeFirstOrThrow()
  ).user_id
  const save = (fields: Record<string, string | string[]>) => browser.submit('/account/profile', '/account/profile', fields)
  // The row as stored, its sealed values opened (each is encrypted at rest: see the test below).
  const stored = async () => {
    const row = await database.db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst()
    if (!row) return undefined
    const opened: Record<string, unknown> = { ...row }
    for (const [column, value] of Object.entries(row)) {
      if (column !== 'user_id' && column !== 'updated_at')
        opened[column] = keyring().openNullable(value as string | null, profileAad(userId, column))
    }
    return opened as typeof row
  }
  return { app, browser, userId, save, stored }
}

test('a complete profile is saved normalised and shown on the account page', async (t) => {
  const { browser, save, stored } = await loggedIn(t)
  const response = await save(VALID)
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, '/account?saved=1')
  const row = await stored()
  assert.deepEqual(
    { ...row, user_id: undefined, updated_at: undefined },
    {
      user_id: undefined,
      updated_at: undefined,
      family_name: '山田',
      given_name: '花子',
      middle_name: null,
      family_name_pronunciation: 'ヤマダ',
      given_name_pronunciation: 'ハナコ',
      gender: 'female',
      birthdate: '1990-01-31',
      phone_number: '+819012345678',
      postal_code: '1028282',
      region: '東京都',
      locality: '千代田区紀尾井町',
      street_address: '1番3号',
      country: 'JP',
    },
  )
  const account = await browser.get('/account?saved=1')
  assert.match(account.body, /Your Profile\+ data was saved/)
  assert.match(account.body, /山田 花子 \(ヤマダ ハナコ\)/)
  assert.match(account.body, /1番3号, 千代田区紀尾井町, 東京都 102-8282, Japan/)
  assert.match(account.body, /<dd>090-1234-5678<\/dd>/, 'a Japanese number in the national format (stored as E.164)')
  const editor = await browser.get('/account/profile')
  assert.match(editor.body, /name="phone_number" type="tel" value="090-1234-5678"/)
  assert.match(
    editor.body,
    /name="address.postal_code" type="text" value="102-8282"/,
    'shown as people write it, stored without the hyphen',
  )
})

// [field, input, stored column, stored value]
const ACCEPTED: [string, string, string, string][] = [
  ['family_name', ' 山田 ', 'family_name', '山田'],
  ['family_name', 'か\u3099', 'family_name', 'が'], // NFD input is stored NFC
  ['family_name', 'あ'.repeat(64), 'family_name', 'あ'.repeat(64)],
  ['family_name', '<script>alert(1)</script>', 'family_name', '<script>alert(1)</script>'],
  ['middle_name', 'Maria', 'middle_name', 'Maria'],
  ['family_name_pronunciation', 'ヴァン デル', 'family_name_pronunciation', 'ヴァン デル'],
  ['family_name_pronunciation', 'ヤマダ　タロー', 'family_name_pronunciation', 'ヤマダ　タロー'],
  ['gender', 'Male', 'gender', 'male'],
  ['gender', 'ノンバイナリー', 'gender', 'ノンバイナリー'],
  ['gender', 'x'.repeat(32), 'gender', 'x'.repeat(32)],
  ['birthdate', '2000-02-29', 'birthdate', '2000-02-29'],
  ['birthdate', '1900-01-01', 'birthdate', '1900-01-01'],
  ['birthdate', new Date().toISOString().slice(0, 10), 'birthdate', new Date().toISOString().slice(0, 10)],
  ['phone_number', '09012345678', 'phone_number', '+819012345678'],
  ['phone_number', '+81 90 1234 5678', 'phone_number', '+819012345678'],
  ['phone_number', '０９０－１２３４－５６７８', 'phone_number', '+819012345678'],
  ['phone_number', '＋８１９０１２３４５６７８', 'phone_number', '+819012345678'],
  ['phone_number', '03-1234-5678', 'phone_number', '+81312345678'],
  ['phone_number', '+1 650 253 0000', 'phone_number', '+16502530000'],
  ['address.postal_code', '1028282', 'postal_code', '1028282'],
  ['address.postal_code', '１０２－８２８２', 'postal_code', '1028282'],
  ['address.postal_code', '〒102-8282', 'postal_code', '1028282'],
  ['address.country', 'jp', 'country', 'JP'],
  ['address.region', 'あ'.repeat(128), 'region', 'あ'.repeat(128)],
]

test('Profile+ values are stored encrypted: the raw row holds none of them in clear text', async (t) => {
  const { save, userId } = await loggedIn(t)
  assert.equal((await save(VALID)).statusCode, 303)
  const raw = await database.db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow()
  const text = JSON.stringify(raw)
  for (const value of [
    '山田',
    '花子',
    'ヤマダ',
    'ハナコ',
    'female',
    '1990-01-31',
    '+819012345678',
    '1028282',
    '東京都',
    '千代田区紀尾井町',
    '1番3号',
  ]) {
    assert.ok(!text.includes(value), `${value} is in the raw row`)
  }
  assert.match(raw.family_name!, /^dk[0-9a-f]{12}\.v1\./, 'a sealed value names its data key')
  // Sealed for this row and column: moved to another column, it does not open.
  assert.throws(() => keyring().open(raw.family_name!, profileAad(userId, 'given_name')))
})

test('valid values are accepted and stored in their normalised form', async (t) => {
  const { save, stored } = await loggedIn(t)
  for (const [field, input, column, expected] of ACCEPTED) {
    const response = await save({ ...VALID, [field]: input })
    assert.equal(
      response.statusCode,
      303,
      `${field}=${JSON.stringify(input)} should be accepted: ${/role="alert">([^<]*)/.exec(response.body)?.[1]}`,
    )
    const row = (await stored()) as Record<string, unknown>
    assert.equal(row[column], expected, `${field}=${JSON.stringify(input)}`)
  }
})

test('a foreign address keeps its own postal code format', async (t) => {
  const { save, stored } = await loggedIn(t)
  const response = await save({ ...VALID, 'address.country': 'us', 'address.postal_code': '94043', 'address.region': 'CA' })
  assert.equal(response.statusCode, 303)
  const row = await stored()
  assert.equal(row?.country, 'US')
  assert.equal(row?.postal_code, '94043')
})

// [field, input, message shown next to the field]
const REJECTED: [string, string, RegExp][] = [
  ['family_name', 'あ'.repeat(65), /must be at most 64 characters/],
  ['family_name', 'x'.repeat(5000), /must be at most 64 characters/],
  // U+0000 itself is refused before any form is read (test/security/request-limits.test.ts).
  ['family_name', 'a\u0001b', /must not contain control characters/],
  ['family_name', 'a\u0007b', /must not contain control characters/],
  ['family_name', 'a\tb', /must not contain control characters/],
  ['family_name', 'line\nbreak', /must not contain control characters/],
  ['family_name', 'evil\u202Egnp.exe', /must not contain control characters/],
  ['given_name', '', /is required/],
  ['given_name', '   ', /is required/],
  ['family_name_pronunciation', 'やまだ', /full-width katakana/],
  ['family_name_pronunciation', 'ﾔﾏﾀﾞ', /full-width katakana/],
  ['family_name_pronunciation', 'Yamada', /full-width katakana/],
  ['family_name_pronunciation', '山田', /full-width katakana/],
  ['family_name_pronunciation', '<b>ヤマダ</b>', /full-width katakana/],
  ['given_name_pronunciation', 'ア'.repeat(65), /must be at most 64 characters/],
  ['gender', 'x'.repeat(33), /must be at most 32 characters/],
  ['gender', 'fe\u0001male', /must not contain control characters/],
  ['birthdate', '2023-02-29', /is not a real date/],
  ['birthdate', '1990-13-01', /is not a real date/],
  ['birthdate', '1990-04-31', /is not a real date/],
  ['birthdate', '1899-12-31', /must be in 1900 or later/],
  ['birthdate', '2099-01-01', /must not be in the future/],
  ['birthdate', '1990/01/31', /must be a date written YYYY-MM-DD/],
  ['birthdate', '1990-1-1', /must be a date written YYYY-MM-DD/],
  ['birthdate', '１９９０-０１-３１', /must be a date written YYYY-MM-DD/],
  ['birthdate', '<script>', /must be a date written YYYY-MM-DD/],
  ['phone_number', '12345', /must be a phone number/],
  ['phone_number', '090-1234-567', /must be a phone number/],
  ['phone_number', 'call me', /must be a phone number/],
  ['phone_number', '<b>09012345678</b>', /must be a phone number/],
  ['phone_number', '090-1234-5678 ext 5', /must be a phone number/],
  ['phone_number', '0'.repeat(40), /must be a phone number/],
  ['phone_number', '０９０－１２３４－５６７', /must be a phone number/],
  ['address.postal_code', '12-3456', /must be 7 digits/],
  ['address.postal_code', '102-82820', /must be 7 digits/],
  ['address.postal_code', '１２３', /must be 7 digits/],
  ['address.postal_code', '102828a', /must be 7 digits/],
  ['address.country', 'XX', /ISO 3166-1/],
  ['address.country', 'JPN', /ISO 3166-1/],
  ['address.country', 'Japan', /ISO 3166-1/],
  ['address.region', 'あ'.repeat(129), /must be at most 128 characters/],
  ['address.locality', '', /is required/],
  ['address.street_address', '1番\u00013号', /must not contain control characters/],
  ['name', '', /is required/],
  ['name', 'x'.repeat(65), /must be at most 64 characters/],
]

test('each invalid value is refused next to its field, redisplayed, and nothing is saved', async (t) => {
  const { save, stored } = await loggedIn(t)
  assert.equal((await save(VALID)).statusCode, 303)
  const before = await stored()
  for (const [field, input, message] of REJECTED) {
    // Change a valid field too: it must not be saved either.
    const response = await save({ ...VALID, gender: field === 'gender' ? input : 'male', [field]: input })
    const label = `${field}=${JSON.stringify(input.slice(0, 40))}`
    assert.equal(response.statusCode, 400, `${label} should be refused`)
    assert.match(response.body, /Nothing was saved/)
    const id = `field-${field.replace(/[^a-z0-9_-]/gi, '-')}`
    const error = new RegExp(`<p class="error" id="${id}-error" role="alert">([^<]*)</p>`).exec(response.body)
    assert.ok(error, `${label}: an error is shown next to the field`)
    assert.match(error[1]!, message, label)
    assert.match(
      response.body,
      new RegExp(`id="${id}"[^>]*aria-invalid="true" aria-describedby="${id}-error"`),
      `${label}: the error is bound to the input`,
    )
    assert.deepEqual(await stored(), before, `${label}: nothing was saved`)
  }
})

test('a refused value comes back escaped in its field', async (t) => {
  const { save } = await loggedIn(t)
  const response = await save({ ...VALID, phone_number: '"><script>alert(1)</script>' })
  assert.equal(response.statusCode, 400)
  assert.ok(response.body.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'))
  assert.ok(!response.body.includes('<script>alert(1)'))
})

test('a name with HTML is shown as text on the account page', async (t) => {
  const { browser, save } = await loggedIn(t)
  assert.equal((await save({ ...VALID, family_name: '<img src=x onerror=alert(1)>' })).statusCode, 303)
  const page = await browser.get('/account')
  assert.ok(page.body.includes('&lt;img src=x onerror=alert(1)&gt;'))
  assert.ok(!page.body.includes('<img src=x'))
})

test('the future starts after today in the easternmost time zone', async (t) => {
  const { save } = await loggedIn(t)
  const latest = latestDateToday(new Date())
  assert.equal((await save({ ...VALID, birthdate: latest })).statusCode, 303)
  const dayAfter = new Date(Date.parse(`${latest}T00:00:00Z`) + 24 * 3600 * 1000).toISOString().slice(0, 10)
  const response = await save({ ...VALID, birthdate: dayAfter })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /must not be in the future/)
})

test('a partly filled item asks for its missing fields; an empty item is removed', async (t) => {
  const { save, stored } = await loggedIn(t)
  const partial = await save({ ...VALID, given_name: '', given_name_pronunciation: '', 'address.region': '' })
  assert.equal(partial.statusCode, 400)
  assert.match(partial.body, /Given name is required/)
  assert.match(partial.body, /Given name \(katakana\) is required/)
  assert.match(partial.body, /Prefecture \/ region is required/)

  assert.equal((await save(VALID)).statusCode, 303)
  const cleared = {
    ...VALID,
    phone_number: '',
    'address.postal_code': '',
    'address.region': '',
    'address.locality': '',
    'address.street_address': '',
    'address.country': '',
  }
  assert.equal((await save(cleared)).statusCode, 303)
  const row = await stored()
  assert.equal(row?.phone_number, null)
  assert.equal(row?.postal_code, null)
  assert.equal(row?.country, null)
  assert.equal(row?.family_name, '山田', 'other items stay')
})

test('a field sent twice is refused', async (t) => {
  const { save } = await loggedIn(t)
  const response = await save({ ...VALID, phone_number: ['090-1234-5678', '080-1234-5678'] })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /Phone number must be given once/)
})

test('the display name is edited with the profile', async (t) => {
  const { browser, save } = await loggedIn(t)
  assert.equal((await save({ ...VALID, name: 'はなちゃん' })).statusCode, 303)
  assert.match((await browser.get('/account')).body, /はなちゃん/)
})

test('the editor needs a login and a CSRF token', async (t) => {
  const { app, browser, stored } = await loggedIn(t)
  const anonymous = await new Browser(app).get('/account/profile')
  assert.equal(anonymous.statusCode, 303)
  await browser.get('/account/profile')
  const forged = await browser.post('/account/profile', { ...VALID, csrf_token: 'forged' })
  assert.equal(forged.statusCode, 403)
  assert.equal(await stored(), undefined)
})
