// The `plusid` command line: docs/cli.md's commands, their JSON output, errors and exit codes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { installKeyring, keyring } from '../../src/crypto/keyring.ts'
import { findUserWithPasswordByEmail } from '../../src/storage/users.ts'
import { runCli } from '../../src/cli/main.ts'
import { verifyPassword } from '../../src/auth/password.ts'
import { uniqueEmail } from '../helpers/browser.ts'
import { createTestDatabase, testDatabase } from '../helpers/database.ts'
import { readMigrationFiles } from '../../src/storage/migrate.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { findChannel } from '../../src/storage/channels.ts'
import { open } from '../../src/crypto/secret-box.ts'
import { findProfile } from '../../src/storage/profiles.ts'
import { listMembers } from '../../src/storage/console.ts'

const database = await testDatabase()

async function cli(...argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(
    argv,
    { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} },
    { database, masterKey: TEST_MASTER_KEY },
  )
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

const PROFILE = {
  family_name: '山田',
  given_name: '花子',
  family_name_pronunciation: 'ヤマダ',
  given_name_pronunciation: 'ハナコ',
  gender: 'female',
  birthdate: '1990-01-31',
  phone_number: '090-1234-5678',
  address: { postal_code: '102-8282', region: '東京都', locality: '千代田区紀尾井町', street_address: '1番3号', country: 'JP' },
}

function profileFile(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-cli-'))
  const file = path.join(dir, 'profile.json')
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

test('migrate --json lists what it applied: nothing on a current database', async () => {
  const result = await cli('migrate', '--json')
  assert.equal(result.code, 0)
  assert.deepEqual(result.json(), { applied: [] })
})

test('user create makes an account that can log in, with its Profile+ data normalised', async () => {
  const email = uniqueEmail('cli')
  const result = await cli(
    'user',
    'create',
    '--email',
    email,
    '--password',
    'cli password',
    '--name',
    'Hanako',
    '--profile',
    profileFile(PROFILE),
    '--json',
  )
  assert.equal(result.code, 0, result.stderr)
  const { user_id } = result.json()
  assert.match(user_id, /^[0-9a-f-]{36}$/)
  const user = await database.db.selectFrom('users').selectAll().where('id', '=', user_id).executeTakeFirstOrThrow()
  assert.notEqual(user.email, email, 'the email is stored sealed')
  assert.equal(keyring().open(user.email, `users.email:${user_id}`), email)
  assert.equal(user.is_admin, false)
  assert.ok(await verifyPassword(user.password_hash, 'cli password'))
  const profile = await findProfile(database.db, user_id)
  assert.equal(profile.phoneNumber, '+819012345678')
  assert.equal(profile.address?.postalCode, '1028282')
  assert.equal(profile.address?.locality, '千代田区紀尾井町')
})

test('admin create makes an administrator', async () => {
  const result = await cli('admin', 'create', '--email', uniqueEmail('admin'), '--password', 'admin password', '--json')
  assert.equal(result.code, 0, result.stderr)
  const user = await database.db.selectFrom('users').selectAll().where('id', '=', result.json().user_id).executeTakeFirstOrThrow()
  assert.equal(user.is_admin, true)
})

test('without --json the output is a sentence', async () => {
  const result = await cli('user', 'create', '--email', uniqueEmail(), '--password', 'cli password', '--name', 'N')
  assert.equal(result.code, 0)
  assert.match(result.stdout, /^User .* created \(user id [0-9a-f-]+\)\.\n$/)
})

test('a duplicate email fails with exit code 1 and a JSON error on stderr', async () => {
  const email = uniqueEmail()
  assert.equal((await cli('user', 'create', '--email', email, '--password', 'cli password', '--name', 'N')).code, 0)
  const again = await cli('user', 'create', '--email', email.toUpperCase(), '--password', 'cli password', '--name', 'N', '--json')
  assert.equal(again.code, 1)
  assert.equal(again.stdout, '')
  assert.equal(JSON.parse(again.stderr).error, 'email_taken')
})

test('an invalid profile file creates nothing and names each bad claim', async () => {
  const email = uniqueEmail()
  const bad = { ...PROFILE, birthdate: '2023-02-29', phone_number: '12', nickname: 'x', address: { ...PROFILE.address, zip: '1' } }
  const result = await cli(
    'user',
    'create',
    '--email',
    email,
    '--password',
    'cli password',
    '--name',
    'N',
    '--profile',
    profileFile(bad),
    '--json',
  )
  assert.equal(result.code, 1)
  const error = JSON.parse(result.stderr)
  assert.equal(error.error, 'invalid_profile')
  assert.match(error.message, /birthdate is not a real date/)
  assert.match(error.message, /phone_number must be a phone number/)
  assert.match(error.message, /nickname is not a Profile\+ claim/)
  assert.match(error.message, /address\.zip is not an address member/)
  const rows = await database.db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).execute()
  assert.equal(rows.length, 0, 'the account was not created either')
  const unreadable = await cli(
    'user',
    'create',
    '--email',
    email,
    '--password',
    'cli password',
    '--name',
    'N',
    '--profile',
    profileFile('{not json'),
  )
  assert.equal(unreadable.code, 1)
  assert.match(unreadable.stderr, /Cannot read the profile file/)
  const missing = await cli(
    'user',
    'create',
    '--email',
    email,
    '--password',
    'cli password',
    '--name',
    'N',
    '--profile',
    '/nonexistent/profile.json',
  )
  assert.equal(missing.code, 1)
})

test('bad arguments exit with 2 and say what is wrong', async () => {
  const invalid = await cli('user', 'create', '--email', 'nope', '--password', 'short', '--json')
  assert.equal(invalid.code, 2)
  const { message } = JSON.parse(invalid.stderr)
  assert.match(message, /--email must be an email address/)
  assert.match(message, /--password must be at least 8 bytes/)
  assert.match(message, /--name is required/)
  assert.equal((await cli('frobnicate')).code, 2)
  assert.match((await cli('frobnicate')).stderr, /Unknown command "frobnicate"/)
  assert.equal((await cli('migrate', '--colour')).code, 2)
  assert.equal((await cli()).code, 2)
  const help = await cli('help')
  assert.equal(help.code, 0)
  assert.match(help.stdout, /user create --email E --password P --name N/)
})

const BIN = path.resolve('bin/plusid.js')

test('the plusid binary runs against the configured database and exits non-zero on errors', async () => {
  const { url, database: fresh, drop } = await createTestDatabase()
  await fresh.close()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-bin-'))
  const env = { ...process.env, DATABASE_URL: url ?? '', DATA_DIR: dataDir }
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 180_000 }) // a first embedded start runs initdb: slow on a busy machine
    const first = run('migrate', '--json')
    assert.equal(first.status, 0, first.stderr)
    assert.deepEqual(JSON.parse(first.stdout), { applied: readMigrationFiles().map((file) => file.name) })
    const created = run('user', 'create', '--email', 'bin@example.com', '--password', 'bin password', '--name', 'Bin', '--json')
    assert.equal(created.status, 0, created.stderr)
    assert.match(JSON.parse(created.stdout).user_id, /^[0-9a-f-]{36}$/)
    const badConfig = spawnSync(process.execPath, [BIN, 'migrate', '--json'], {
      env: { ...env, DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
    })
    assert.equal(badConfig.status, 2)
    assert.match(JSON.parse(badConfig.stderr).message, /DATABASE_URL must be a URL such as postgres:/)
  } finally {
    await drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('channel create registers a channel with a shown-once secret, stored only hashed (and sealed for HS256)', async () => {
  const result = await cli(
    'channel',
    'create',
    '--name',
    'Shop',
    '--callback-url',
    'https://shop.example/cb',
    '--callback-url',
    'http://localhost:8080/cb',
    '--id-token-alg',
    'HS256',
    '--error-style',
    'line',
    '--provider',
    'Shop Inc',
    '--publish',
    '--json',
  )
  assert.equal(result.code, 0, result.stderr)
  const { channel_id: channelId, channel_secret: secret } = result.json()
  assert.match(channelId, /^\d{10}$/)
  assert.match(secret, /^[0-9a-f]{32}$/)
  const channel = (await findChannel(database.db, channelId))!
  assert.deepEqual(channel.callbackUrls, ['https://shop.example/cb', 'http://localhost:8080/cb'])
  assert.equal(channel.kind, 'web')
  assert.equal(channel.idTokenAlg, 'HS256')
  assert.equal(channel.status, 'published')
  assert.equal(channel.errorStyle, 'line')
  const row = await database.db.selectFrom('channels').selectAll().where('id', '=', channelId).executeTakeFirstOrThrow()
  assert.ok(!Buffer.from(row.secret_hash!).toString('hex').includes(secret), 'the secret is not stored in clear')
  assert.ok(!row.secret_encrypted!.includes(secret))
  assert.equal(open(TEST_MASTER_KEY, row.secret_encrypted!, `channel-secret:${channelId}`), secret)
  const provider = await database.db.selectFrom('providers').select('id').where('name', '=', 'Shop Inc').executeTakeFirst()
  assert.equal(provider?.id, channel.providerId, 'the provider was created')
})

test('channel create: public kinds get no secret; RS256 and no sealed secret by default; logout URLs; developing by default', async () => {
  const spa = await cli('channel', 'create', '--name', 'App', '--callback-url', 'https://app.example/cb', '--kind', 'spa', '--json')
  assert.equal(spa.code, 0, spa.stderr)
  assert.equal(spa.json().channel_secret, undefined)
  const channel = (await findChannel(database.db, spa.json().channel_id))!
  assert.equal(channel.isPublic, true)
  assert.equal(channel.status, 'developing')
  const web = await cli('channel', 'create', '--name', 'Web', '--callback-url', 'https://web.example/cb', '--json')
  const row = await database.db.selectFrom('channels').selectAll().where('id', '=', web.json().channel_id).executeTakeFirstOrThrow()
  assert.equal(row.secret_encrypted, null)
  assert.equal(row.id_token_alg, 'RS256', 'without --id-token-alg a channel signs with RS256')
  assert.deepEqual(row.logout_urls, [], 'no logout URL unless given')
  const withLogout = await cli(
    'channel',
    'create',
    '--name',
    'Web 2',
    '--callback-url',
    'https://web.example/cb',
    '--logout-url',
    'https://web.example',
    '--logout-url',
    'https://web.example/bye',
    '--json',
  )
  assert.equal(withLogout.code, 0, withLogout.stderr)
  assert.deepEqual((await findChannel(database.db, withLogout.json().channel_id))!.logoutUrls, [
    'https://web.example',
    'https://web.example/bye',
  ])
  const badLogout = await cli(
    'channel',
    'create',
    '--name',
    'Web 3',
    '--callback-url',
    'https://web.example/cb',
    '--logout-url',
    'http://web.example/bye',
    '--json',
  )
  assert.equal(badLogout.code, 2)
  assert.match(badLogout.stderr, /logout-url/)
})

test('channel create refuses bad callback URLs, kinds and algorithms with exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--callback-url', 'http://shop.example/cb'], /must use https/],
    [['--callback-url', 'https://shop.example/cb#frag'], /fragment/],
    [['--callback-url', 'https://*.example/cb'], /wildcard/],
    [['--callback-url', 'not a url'], /absolute URL/],
    [[], /at least one callback URL/],
    [['--callback-url', 'https://ok.example/cb', '--kind', 'desktop'], /--kind must be web, spa or native/],
    [['--callback-url', 'https://ok.example/cb', '--id-token-alg', 'none'], /--id-token-alg must be ES256, RS256 or HS256/],
    [['--callback-url', 'https://ok.example/cb', '--kind', 'spa', '--id-token-alg', 'HS256'], /HS256 needs a channel secret/],
  ]
  for (const [args, message] of cases) {
    const result = await cli('channel', 'create', '--name', 'Bad', ...args, '--json')
    assert.equal(result.code, 2, args.join(' '))
    assert.match(JSON.parse(result.stderr).message, message, args.join(' '))
  }
})

test('channel create --owner makes the account an owner of the provider', async () => {
  const email = uniqueEmail('owner')
  assert.equal((await cli('user', 'create', '--email', email, '--password', 'owner password', '--name', 'O')).code, 0)
  const result = await cli(
    'channel',
    'create',
    '--name',
    'Owned',
    '--callback-url',
    'https://owned.example/cb',
    '--provider',
    'Owned Inc',
    '--owner',
    email,
    '--json',
  )
  assert.equal(result.code, 0, result.stderr)
  const providerId = (await database.db.selectFrom('providers').select('id').where('name', '=', 'Owned Inc').executeTakeFirstOrThrow()).id
  const members = await listMembers(database.db, providerId)
  assert.ok(members.some((m) => m.email === email && m.role === 'owner'))
  const unknown = await cli('channel', 'create', '--name', 'X', '--callback-url', 'https://x.example/cb', '--owner', 'nobody@example.com')
  assert.equal(unknown.code, 1)
})

test('channel permit approves items; unknown items and channels are refused', async () => {
  const { channel_id: channelId } = (
    await cli('channel', 'create', '--name', 'P', '--callback-url', 'https://p.example/cb', '--json')
  ).json()
  const result = await cli('channel', 'permit', channelId, 'phone', 'address', '--json')
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(result.json(), { channel_id: channelId, permitted: ['phone', 'address'] })
  assert.deepEqual((await findChannel(database.db, channelId))!.approvedItems, ['address', 'phone'])
  const bad = await cli('channel', 'permit', channelId, 'shoe_size', '--json')
  assert.equal(bad.code, 2)
  assert.match(JSON.parse(bad.stderr).message, /must be one of email, real_name/)
  assert.equal((await cli('channel', 'permit', '0000000000', 'phone')).code, 1)
  assert.equal((await cli('channel', 'permit', channelId)).code, 2)
})

test('keys rotate: next becomes current, a new next is published, the old current is retired but still published', async () => {
  const before = await database.db.selectFrom('signing_keys').selectAll().execute()
  const result = await cli('keys', 'rotate', '--json')
  assert.equal(result.code, 0, result.stderr)
  const { current, next } = result.json()
  const after = await database.db.selectFrom('signing_keys').selectAll().execute()
  const byKid = new Map(after.map((k) => [k.kid, k]))
  assert.equal(byKid.get(current)?.state, 'current')
  assert.equal(byKid.get(next)?.state, 'next')
  const previousNext = before.find((k) => k.alg === 'ES256' && k.state === 'next')
  if (previousNext) assert.equal(previousNext.kid, current, 'the published next key is the one that becomes current')
  const previousCurrent = before.find((k) => k.alg === 'ES256' && k.state === 'current')
  if (previousCurrent) {
    const retired = byKid.get(previousCurrent.kid)!
    assert.equal(retired.state, 'retired')
    assert.ok(retired.expires_at!.getTime() > Date.now() + 3600 * 1000, 'kept until the tokens it signed expired')
  }
  for (const key of after) assert.ok(!JSON.stringify(key.public_jwk).includes('"d"'), 'public JWKs only')
  assert.ok(
    after.every((key) => key.private_jwk_encrypted.startsWith('v1.')),
    'private keys sealed',
  )
})

test('keys rotate-data re-encrypts every email and Profile+ value under a new data key and deletes the old one', async () => {
  const email = uniqueEmail('rotate')
  const created = await cli(
    'user',
    'create',
    '--email',
    email,
    '--password',
    'rotate password',
    '--name',
    'Rotator',
    '--profile',
    profileFile(PROFILE),
    '--json',
  )
  assert.equal(created.code, 0, created.stderr)
  const userId = created.json().user_id as string
  const before = await database.db.selectFrom('data_keys').selectAll().execute()
  const oldCurrent = before.find((key) => key.state === 'current')!.id
  const profileBefore = await findProfile(database.db, userId)

  const result = await cli('keys', 'rotate-data', '--wait', '0', '--json')
  assert.equal(result.code, 0, result.stderr)
  const rotation = result.json()
  assert.notEqual(rotation.current, oldCurrent)
  assert.equal(rotation.new_key, true)
  assert.ok(rotation.reencrypted >= 2, 'users and profiles were re-encrypted')
  assert.ok(rotation.removed.includes(oldCurrent), 'the old wrapped key is gone')
  const after = await database.db.selectFrom('data_keys').selectAll().execute()
  assert.deepEqual(
    after.map((key) => key.id),
    [rotation.current],
  )

  // Every value is sealed under the new key and still opens.
  const users = await database.db.selectFrom('users').select(['id', 'email']).execute()
  assert.ok(users.every((user) => user.email.startsWith(`${rotation.current}.`)))
  const profiles = await database.db.selectFrom('profiles').selectAll().execute()
  for (const profile of profiles) {
    for (const [column, value] of Object.entries(profile)) {
      if (column !== 'user_id' && column !== 'updated_at' && value !== null)
        assert.ok(String(value).startsWith(`${rotation.current}.`), column)
    }
  }
  await installKeyring(database.db, TEST_MASTER_KEY) // the process reloads, as servers do every KEY_REFRESH_SECONDS
  assert.deepEqual(await findProfile(database.db, userId), profileBefore)
  assert.equal((await findUserWithPasswordByEmail(database.db, email))?.user.email, email, 'login by email still finds the account')

  // Nothing left to do: a second run starts a new rotation.
  const again = await cli('keys', 'rotate-data', '--wait', '0', '--json')
  assert.equal(again.json().new_key, true)
  await installKeyring(database.db, TEST_MASTER_KEY)
})
