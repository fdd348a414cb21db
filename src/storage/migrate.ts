// Applies the plain .sql files of migrations/ in name order, each once, all pending ones in a
// single transaction under an advisory lock, so several processes starting together apply
// them exactly once and a failing file leaves the database as it was.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { PACKAGE_ROOT } from '../package-root.ts'
import type { Database } from './database.ts'

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations')

/** Any constant works: it names the lock every plusid process takes before migrating. */
const MIGRATION_LOCK_KEY = 7_052_818_113

export interface MigrationFile {
  name: string
  sql: string
  checksum: string
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

export function readMigrationFiles(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8')
      return { name: file.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

/** Returns the names of the migrations this call applied (empty when the schema was current). */
export async function migrate(database: Database, files = readMigrationFiles()): Promise<string[]> {
  return database.withRawConnection(async (connection) => {
    await connection.exec('BEGIN')
    try {
      await connection.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
      await connection.exec(
        `CREATE TABLE IF NOT EXISTS plusid_migrations (
           name text PRIMARY KEY,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      )
      const appliedRows = await connection.query<{ name: string; checksum: string }>('SELECT name, checksum FROM plusid_migrations')
      const applied = new Map(appliedRows.map((row) => [row.name, row.checksum]))
      const known = new Set(files.map((file) => file.name))
      for (const name of applied.keys()) {
        if (!known.has(name))
          throw new MigrationError(
            `The database has migration ${name}, which this version of plusid does not know: is it older than the database?`,
          )
      }
      const pending: string[] = []
      for (const file of files) {
        const checksum = applied.get(file.name)
        if (checksum === undefined) {
          await connection.exec(file.sql)
          await connection.query('INSERT INTO plusid_migrations (name, checksum) VALUES ($1, $2)', [file.name, file.checksum])
          pending.push(file.name)
        } else if (checksum !== file.checksum) {
          throw new MigrationError(
            `Migration ${file.name} was changed after it was applied; migrations are frozen: add a new file instead.`,
          )
        }
      }
      await connection.exec('COMMIT')
      return pending
    } catch (error) {
      await connection.exec('ROLLBACK').catch(() => {})
      throw error
    }
  })
}
