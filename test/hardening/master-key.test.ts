// Issue 13 item 10, README, Security (Master key): the database records a check value of the master
// key; a process given another key refuses to start — exit 2, a message naming PLUSID_MASTER_KEY,
// no stack trace — and writes nothing; no key file is generated for a database that already holds
// sealed data.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runCli } from '../../src/cli/main.ts'
import { createTestDatabase, onServer, serverUrl } from '../helpers/database.ts'
import { uniqueEmail } from '../helpers/browser.ts'
import { masterKeyCheckValue } from '../../src/master-key.ts'

const SERVER = ['--import', 'tsx', path.resolve('src/server.ts')]
const KEY = randomBytes(32).toString('hex')
const OTHER = randomBytes(32).toString('hex')

/** Every row of every table, as text: what a dump holds. */
async function dumpOf(db: Awaited<ReturnType<typeof createTestDatabase>>['database']): Promise<string> {
  const rows = await db.withRawConnection((c) =>
    c.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`),
  )
  const parts: string[] = []
  for (const { tablename } of rows) {
    const content = await db.withRawConnection((c) => c.query<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t ORDER BY 1`))
    parts.push(tablename, ...content.map((r) => r.row))
  }
  return parts.join('\n')
}

async function cli(argv: string[], env: Record<string, string>, database: Awaited<ReturnType<typeof createTestDatabase>>['database']) {
  let stderr = ''
  let stdout = ''
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env }, { database })
  return { code, stderr, stdout }
}

test('the command line: a mismatched key exits 2 naming PLUSID_MASTER_KEY and writes nothing; no key is generated for sealed data', async (t) => {
  const { database, drop } = await createTestDatabase()
  t.after(drop)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-key-'))
  const first = await cli(
    ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N', '--json'],
    { PLUSID_MASTER_KEY: KEY, DATA_DIR: dataDir },
    database,
  )
  assert.equal(first.code, 0, first.stderr)
  const check = await database.db.selectFrom('master_key_check').select('check_value').executeTakeFirstOrThrow()
  assert.deepEqual(Buffer.from(check.check_value), masterKeyCheckValue(Buffer.from(KEY, 'hex')), 'the check value is recorded')
  assert.ok(!(await dumpOf(database)).includes(KEY), 'the key itself is not in the database')
  const before = await dumpOf(database)

  const wrong = await cli(
    ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N', '--json'],
    { PLUSID_MASTER_KEY: OTHER, DATA_DIR: dataDir },
    database,
  )
  assert.equal(wrong.code, 2)
  assert.match(wrong.stderr, /PLUSID_MASTER_KEY is not the master key this database was sealed with/)
  assert.doesNotMatch(wrong.stderr, /Unsupported state| {4}at /)
  assert.equal(await dumpOf(database), before, 'nothing was written')

  const none = await cli(
    ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N'],
    { DATA_DIR: dataDir },
    database,
  )
  assert.equal(none.code, 2)
  assert.match(none.stderr, /PLUSID_MASTER_KEY is not set, and this database holds data sealed/)
  assert.equal(fs.existsSync(path.join(dataDir, 'master.key')), false, 'no key file was generated')
  assert.equal(await dumpOf(database), before)

  // A key file that does not match is named as such.
  fs.writeFileSync(path.join(dataDir, 'master.key'), OTHER + '\n')
  const file = await cli(
    ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N'],
    { DATA_DIR: dataDir },
    database,
  )
  assert.equal(file.code, 2)
  assert.match(file.stderr, /master\.key \(PLUSID_MASTER_KEY is not set\) is not the master key/)
})

test('a database from before the check value: the key is tried on a sealed value, then the check is recorded', async (t) => {
  const { database, drop } = await createTestDatabase()
  t.after(drop)
  assert.equal(
    (
      await cli(
        ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N'],
        { PLUSID_MASTER_KEY: KEY },
        database,
      )
    ).code,
    0,
  )
  await database.db.deleteFrom('master_key_check').execute()
  const wrong = await cli(['migrate'], { PLUSID_MASTER_KEY: OTHER }, database)
  assert.equal(wrong.code, 0, 'migrate needs no key')
  const refused = await cli(['user', 'disable', 'nobody@example.com'], { PLUSID_MASTER_KEY: OTHER }, database)
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /PLUSID_MASTER_KEY is not the master key/)
  assert.equal(
    await database.db.selectFrom('master_key_check').select('id').executeTakeFirst(),
    undefined,
    'no check value recorded for a wrong key',
  )
  assert.notEqual((await cli(['user', 'disable', 'nobody@example.com'], { PLUSID_MASTER_KEY: KEY }, database)).code, 2)
  assert.ok(await database.db.selectFrom('master_key_check').select('id').executeTakeFirst())
})

test('npm start with a mismatched key exits 2 with one clear line, before migrating or writing a key file', {
  skip: onServer ? false : 'the embedded database is opened by one process at a time: run with DATABASE_URL',
}, async (t) => {
  const { database, url, drop } = await createTestDatabase()
  t.after(drop)
  assert.equal(
    (
      await cli(
        ['user', 'create', '--email', uniqueEmail(), '--password', 'a long password', '--name', 'N'],
        { PLUSID_MASTER_KEY: KEY },
        database,
      )
    ).code,
    0,
  )
  const before = await dumpOf(database)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-key-'))
  for (const env of [{ PLUSID_MASTER_KEY: OTHER }, { PLUSID_MASTER_KEY: '' }]) {
    const result = spawnSync(process.execPath, SERVER, {
      env: { ...process.env, DATABASE_URL: url!, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(result.status, 2, result.stderr)
    assert.match(result.stderr, /PLUSID_MASTER_KEY/)
    assert.doesNotMatch(result.stderr, /Unsupported state| {4}at /)
    assert.equal(fs.existsSync(path.join(dataDir, 'master.key')), false)
  }
  assert.equal(await dumpOf(database), before)
  void serverUrl
})
