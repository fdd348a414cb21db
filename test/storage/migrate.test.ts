// Migrations: plain .sql files applied in order, once, in one transaction, under a lock.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createTestDatabase, onServer } from '../helpers/database.ts'
import { migrate, MigrationError, readMigrationFiles, MIGRATIONS_DIR } from '../../src/storage/migrate.ts'
import { openDatabase } from '../../src/storage/database.ts'

const { database, drop } = await createTestDatabase()
test.after(async () => {
  await database.close()
  await drop()
})

async function tables(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.execute(database.db)
  return result.rows.map((row) => row.table_name)
}

function migrationsWith(extra: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-migrations-'))
  for (const file of fs.readdirSync(MIGRATIONS_DIR)) fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(dir, file))
  for (const [name, content] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), content)
  return dir
}

test('a fresh database gets every migration; a second run is a no-op', async () => {
  const names = readMigrationFiles().map((file) => file.name)
  assert.deepEqual(await migrate(database), names)
  const after = await tables()
  for (const table of ['plusid_migrations', 'profiles', 'sessions', 'users', 'channels', 'signing_keys', 'authorization_codes'])
    assert.ok(after.includes(table), table)
  assert.deepEqual(await migrate(database), [])
  assert.deepEqual(await tables(), after)
})

test('a failing migration rolls back the whole batch', async () => {
  const dir = migrationsWith({ '9001_good.sql': 'CREATE TABLE good (id int);', '9002_bad.sql': 'CREATE TABLE bad (id int); SELEC oops;' })
  await assert.rejects(migrate(database, readMigrationFiles(dir)), /syntax error/)
  assert.ok(!(await tables()).includes('good'), 'the good migration of the batch was rolled back')
  assert.deepEqual(await migrate(database), [], 'the recorded migrations are unchanged')
})

test('new migrations are applied in order; an edited one is refused', async () => {
  const dir = migrationsWith({
    '9003_second.sql': 'INSERT INTO first_table VALUES (2);',
    '9002_first.sql': 'CREATE TABLE first_table (id int); INSERT INTO first_table VALUES (1);',
  })
  assert.deepEqual(await migrate(database, readMigrationFiles(dir)), ['9002_first', '9003_second'])
  const rows = await sql<{ id: number }>`SELECT id FROM first_table ORDER BY id`.execute(database.db)
  assert.deepEqual(rows.rows, [{ id: 1 }, { id: 2 }])
  fs.writeFileSync(path.join(dir, '9002_first.sql'), 'CREATE TABLE first_table (id bigint);')
  await assert.rejects(migrate(database, readMigrationFiles(dir)), MigrationError)
  // The database now has migrations this code base does not know: refused, not ignored.
  await assert.rejects(migrate(database), /does not know/)
  await sql`DELETE FROM plusid_migrations WHERE name LIKE '9%'`.execute(database.db)
  await sql`DROP TABLE first_table`.execute(database.db)
  assert.deepEqual(await migrate(database), [])
})

test('processes migrating at the same time apply each migration once', {
  skip: onServer ? false : 'needs several connections: runs against the PostgreSQL server only',
}, async () => {
  const fresh = await createTestDatabase()
  const others = await Promise.all([1, 2, 3].map(() => openDatabase({ databaseUrl: fresh.url })))
  try {
    const results = await Promise.all([fresh.database, ...others].map((db) => migrate(db)))
    const applied = results.flat()
    assert.deepEqual(
      applied,
      readMigrationFiles().map((file) => file.name),
      'each applied exactly once',
    )
  } finally {
    await Promise.all([fresh.database, ...others].map((db) => db.close()))
    await fresh.drop()
  }
})
