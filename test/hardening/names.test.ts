// Issue 13 item 6, README, Security (Names people trust): provider and channel names are NFKC-normalised
// and refused when they hold invisible characters, stacks of combining marks, or scripts mixed or
// substituted the way UTS #39 calls confusable — in the console (with a message in the user's
// language) and in the command line — so no consent page can show such a name as the asking party.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, TEST_MASTER_KEY } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { runCli } from '../../src/cli/main.ts'

const database = await testDatabase()
const db = database.db

// What an attacker registers to pass for PayPal, or to show nothing at all.
const BAD_NAMES: [string, RegExp][] = [
  ['P\u0430yPal', /mixes alphabets/], // Cyrillic а among Latin letters
  ['\u0440\u0430\u0443\u0440\u0430l', /mixes alphabets/], // Cyrillic раура + Latin l
  ['\u0440\u0430\u0443', /look like Latin letters/], // all Cyrillic, reads "pay"
  ['\u0391\u03a1\u03a1\u0399\u0395', /look like Latin letters/], // Greek ΑΡΡΙΕ, reads "APPIE"
  ['\u3164', /invisible/], // Hangul filler alone
  ['Pay\u3164Pal', /invisible/],
  ['Pay\u115fPal', /invisible/],
  ['Pay\uffa0Pal', /invisible/],
  ['PayPal\u200b', /invisible/],
  ['PayPal\u034f', /invisible/], // combining grapheme joiner
  ['Z\u0334\u0321\u031ba\u0336l\u0337g\u0338o', /stack accents/],
  ['Pa\u0301\u0301yPal', /stack accents/],
]
const GOOD_NAMES = [
  'PayPal',
  'さくら商店',
  'Sakura 商店',
  'ヤマダ電機 Online',
  'Café Crème',
  'Tiếng Việt',
  'Ελληνικά',
  'Сбербанк',
  '삼성 Samsung',
]

test('console: look-alike and invisible provider names are refused in the user\u2019s language; full-width is normalised', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  for (const [name, message] of BAD_NAMES) {
    const response = await browser.submit('/console', '/console/providers', { name })
    assert.equal(response.statusCode, 400, `${JSON.stringify(name)} was accepted`)
    assert.match(response.body, message, JSON.stringify(name))
  }
  assert.equal(
    await db
      .selectFrom('providers')
      .select('id')
      .where(
        'name',
        'in',
        BAD_NAMES.map(([n]) => n.normalize('NFKC').trim()),
      )
      .executeTakeFirst(),
    undefined,
  )
  const japanese = new Browser(app, { 'accept-language': 'ja' })
  await registerUser(japanese)
  const ja = await japanese.submit('/console', '/console/providers', { name: 'P\u0430yPal' })
  assert.equal(ja.statusCode, 400)
  assert.match(ja.body, /ほかの名前をまねられる/)

  const suffix = String(Date.now())
  for (const name of GOOD_NAMES) {
    const response = await browser.submit('/console', '/console/providers', { name: `${name} ${suffix}` })
    assert.equal(response.statusCode, 303, `${name}: ${response.body.slice(0, 300)}`)
  }
  // Full-width letters are stored as the letters they look like (NFKC).
  const wide = await browser.submit('/console', '/console/providers', { name: `\uff30\uff41\uff59\uff30\uff41\uff4c ${suffix}9` })
  assert.equal(wide.statusCode, 303)
  const stored = await db.selectFrom('providers').select('name').where('name', 'like', `%${suffix}9`).executeTakeFirstOrThrow()
  assert.equal(stored.name, `PayPal ${suffix}9`)
})

test('console: look-alike channel names are refused at creation and at edit', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const created = await browser.submit('/console', '/console/providers', { name: `Names ${Date.now()}` })
  const providerPath = String(created.headers.location)
  const fields = {
    description: '',
    icon_url: '',
    privacy_policy_url: '',
    kind: 'web',
    callback_urls: 'https://rp.example.com/cb',
    id_token_alg: 'RS256',
  }
  for (const [name, message] of BAD_NAMES) {
    const response = await browser.submit(providerPath, `${providerPath}/channels`, { ...fields, name })
    assert.equal(response.statusCode, 400, JSON.stringify(name))
    assert.match(response.body, message)
  }
  const ok = await browser.submit(providerPath, `${providerPath}/channels`, { ...fields, name: 'Shop' })
  assert.equal(ok.statusCode, 303) // to the page that shows the secret once
  const channel = await db
    .selectFrom('channels')
    .select('id')
    .where('name', '=', 'Shop')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow()
  const edit = await browser.submit(`/console/channels/${channel.id}`, `/console/channels/${channel.id}`, {
    ...fields,
    name: '\u0440\u0430\u0443',
  })
  assert.equal(edit.statusCode, 400)
  assert.equal((await db.selectFrom('channels').select('name').where('id', '=', channel.id).executeTakeFirstOrThrow()).name, 'Shop')
})

test('command line: a look-alike channel or provider name exits 2 and creates nothing', async () => {
  for (const args of [
    ['--name', 'P\u0430yPal'],
    ['--name', 'Shop', '--provider', 'Pay\u3164Pal'],
  ]) {
    let stderr = ''
    const code = await runCli(
      ['channel', 'create', ...args, '--callback-url', 'https://rp.example.com/cb', '--json'],
      { stdout: () => {}, stderr: (s) => void (stderr += s), env: {} },
      { database, masterKey: TEST_MASTER_KEY },
    )
    assert.equal(code, 2, stderr)
    assert.match(stderr, /mixes alphabets|invisible/)
  }
})
