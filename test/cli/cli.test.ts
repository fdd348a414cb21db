// The `plusid` command line: contract.md's commands, their JSON output, errors and exit codes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runCli } from '../../src/cli/main.ts'
import { verifyPassword } from '../../src/auth/password.ts'
import { uniqueEmail } from '../helpers/browser.ts'
import { createTestDatabase, testDatabase } from '../helpers/database.ts'
import { readMigrationFiles } from '../../src/storage/migrate.ts'

const database = await testDatabase()

async function cli(...argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} }, { database })
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
  const result = await cli('user', 'create', '--email', email, '--password', 'cli password', '--name', 'Hanako', '--profile', profileFile(PROFILE), '--json')
  assert.equal(result.code, 0, result.stderr)
  const { user_id } = result.json()
  assert.match(user_id, /^[0-9a-f-]{36}$/)
  const user = await database.db.selectFrom('users').selectAll().where('id', '=', user_id).executeTakeFirstOrThrow()
  assert.equal(user.email, email)
  assert.equal(user.is_admin, false)
  assert.ok(await verifyPassword(user.password_hash, 'cli password'))
  const profile = await database.db.selectFrom('profiles').selectAll().where('user_id', '=', user_id).executeTakeFirstOrThrow()
  assert.equal(profile.phone_number, '+819012345678')
  assert.equal(profile.postal_code, '1028282')
  assert.equal(profile.locality, '千代田区紀尾井町')
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
  const result = await cli('user', 'create', '--email', email, '--password', 'cli password', '--name', 'N', '--profile', profileFile(bad), '--json')
  assert.equal(result.code, 1)
  const error = JSON.parse(result.stderr)
  assert.equal(error.error, 'invalid_profile')
  assert.match(error.message, /birthdate is not a real date/)
  assert.match(error.message, /phone_number must be a phone number/)
  assert.match(error.message, /nickname is not a Profile\+ claim/)
  assert.match(error.message, /address\.zip is not an address member/)
  const rows = await database.db.selectFrom('users').select('id').where('email_lookup', '=', email).execute()
  assert.equal(rows.length, 0, 'the account was not created either')
  const unreadable = await cli('user', 'create', '--email', email, '--password', 'cli password', '--name', 'N', '--profile', profileFile('{not json'))
  assert.equal(unreadable.code, 1)
  assert.match(unreadable.stderr, /Cannot read the profile file/)
  const missing = await cli('user', 'create', '--email', email, '--password', 'cli password', '--name', 'N', '--profile', '/nonexistent/profile.json')
  assert.equal(missing.code, 1)
})

test('bad arguments exit with 2 and say what is wrong', async () => {
  const invalid = await cli('user', 'create', '--email', 'nope', '--password', 'short', '--json')
  assert.equal(invalid.code, 2)
  const { message } = JSON.parse(invalid.stderr)
  assert.match(message, /--email must be an email address/)
  assert.match(message, /--password must be at least 8 characters/)
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
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 })
    const first = run('migrate', '--json')
    assert.equal(first.status, 0, first.stderr)
    assert.deepEqual(JSON.parse(first.stdout), { applied: readMigrationFiles().map((file) => file.name) })
    const created = run('user', 'create', '--email', 'bin@example.com', '--password', 'bin password', '--name', 'Bin', '--json')
    assert.equal(created.status, 0, created.stderr)
    assert.match(JSON.parse(created.stdout).user_id, /^[0-9a-f-]{36}$/)
    const badConfig = spawnSync(process.execPath, [BIN, 'migrate', '--json'], { env: { ...env, DATABASE_URL: 'mysql://x' }, encoding: 'utf8' })
    assert.equal(badConfig.status, 2)
    assert.match(JSON.parse(badConfig.stderr).message, /DATABASE_URL must be a URL such as postgres:/)
  } finally {
    await drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})
