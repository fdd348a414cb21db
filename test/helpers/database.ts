// One database per test file (node runs each file in its own process): on the PostgreSQL
// server of DATABASE_URL a fresh database created for the file and dropped after it, otherwise
// an in-memory PGlite, whose cold start is paid once per file, not per test.
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import pg from 'pg'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { migrate } from '../../src/storage/migrate.ts'

export const serverUrl = process.env.DATABASE_URL || undefined
export const onServer = serverUrl !== undefined

let shared: Promise<Database> | undefined

/** The migrated database of this test file. Call it at the top level of the file. */
export function testDatabase(): Promise<Database> {
  shared ??= createTestDatabase().then(async ({ database, drop }) => {
    after(async () => {
      await database.close()
      await drop()
    })
    await migrate(database)
    return database
  })
  return shared
}

/** A new, empty database (not migrated) and the function that removes it. */
export async function createTestDatabase(): Promise<{ database: Database; url: string | undefined; drop: () => Promise<void> }> {
  if (!serverUrl) return { database: await openDatabase({}), url: undefined, drop: async () => {} }
  const name = `plusid_test_${process.pid}_${randomBytes(4).toString('hex')}`
  await adminQuery(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const database = await openDatabase({ databaseUrl: url.toString() })
  return { database, url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}
