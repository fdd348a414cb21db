// Opens the one database plusid uses: a PostgreSQL server through `pg` when DATABASE_URL is set,
// otherwise PostgreSQL compiled to WebAssembly (PGlite) keeping its files in DATA_DIR. Both speak
// the same SQL, so the rest of the code never asks which one it has.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import type { PGlite, PGliteOptions } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql, type LogEvent, type Transaction } from 'kysely'
import pg from 'pg'
import type { DB } from './schema.ts'

/** What storage functions take first: the database, or a transaction the caller opened. */
export type Executor = Kysely<DB> | Transaction<DB>

/** One connection with raw SQL, multi-statement scripts included: used by the migrator only. */
export interface RawConnection {
  exec(script: string): Promise<void>
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>
}

export interface Database {
  readonly kind: 'postgres' | 'embedded'
  readonly db: Kysely<DB>
  withRawConnection<T>(fn: (connection: RawConnection) => Promise<T>): Promise<T>
  /** Calls `listener` for every query until the returned function is called (round-trip counting). */
  watchQueries(listener: (event: LogEvent) => void): () => void
  close(): Promise<void>
}

/** Kysely's log hook, fanned out to whoever watches; free when nobody does. */
function queryLog(onQuery?: (event: LogEvent) => void) {
  const listeners = new Set<(event: LogEvent) => void>()
  if (onQuery) listeners.add(onQuery)
  return {
    log: (event: LogEvent) => {
      for (const listener of listeners) listener(event)
    },
    watchQueries(listener: (event: LogEvent) => void) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  }
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded database is used. */
  databaseUrl?: string | undefined
  /** Folder of the embedded database; absent means in memory (tests). */
  dataDir?: string | undefined
  /** Called for every query, for counting round trips in tests and benchmarks. */
  onQuery?: (event: LogEvent) => void
}

export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `The data folder ${dataDir} is in use by process ${pid} (a running plusid server?). ` +
        'The embedded database belongs to one process at a time: stop that process first, ' +
        'or set DATABASE_URL to use a PostgreSQL server.',
    )
    this.name = 'DataDirInUseError'
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.onQuery) : openEmbedded(options.dataDir, options.onQuery)
}

function openPostgres(databaseUrl: string, onQuery?: (event: LogEvent) => void): Database {
  // A request never waits forever: 5 s to get a connection, 10 s for a statement.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 })
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  pool.on('connect', preparePerConnection)
  const { log, watchQueries } = queryLog(onQuery)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log })
  return {
    kind: 'postgres',
    db,
    watchQueries,
    async withRawConnection(fn) {
      const client = await pool.connect()
      try {
        return await fn({
          // Without parameters node-postgres uses the simple protocol, which runs several statements.
          exec: async (script) => void (await client.query(script)),
          query: async <Row>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as Row[],
        })
      } finally {
        client.release()
      }
    },
    async close() {
      await db.destroy()
      // Kysely ends the pool only if it ran a query itself; raw connections alone do not count.
      if (!pool.ended) await pool.end()
    },
  }
}

/**
 * Every parameterised statement becomes a named prepared statement of its connection, named by a
 * hash of its text: PostgreSQL then parses and plans each query shape once per connection instead
 * of on every request (the hot paths run the same few statements over and over).
 */
function preparePerConnection(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const names = new Map<string, string>()
  ;(client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || typeof callback === 'function')
      return query(text, values, callback)
    let name = names.get(text)
    if (!name) {
      name = 'p' + createHash('sha1').update(text).digest('hex')
      names.set(text, name)
    }
    return query({ name, text, values })
  }
}

/**
 * PGlite's own defaults are a server's: 128 MB of shared buffers, 100 connections. One process
 * with one connection and a small database needs far less; 16 MB of buffers halves the embedded
 * database's memory and its start-up time (both measured in `npm run bench`).
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'max_connections=4', '-c', 'wal_buffers=1MB']

/** True when DATA_DIR already holds an embedded database (the next start is a restart). */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))
}

async function openEmbedded(dataDir: string | undefined, onQuery?: (event: LogEvent) => void): Promise<Database> {
  // Loaded here, not at the top: a process on a PostgreSQL server never needs PGlite.
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')])
  const options = (dir?: string): PGliteOptions => ({
    ...(dir ? { dataDir: dir } : {}),
    startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
  })
  let releaseLock = () => {}
  let pglite: PGlite
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true })
    releaseLock = lockDataDir(dataDir)
    try {
      const pgdata = path.join(dataDir, 'pgdata')
      if (!embeddedDatabaseExists(dataDir)) await createEmbeddedInChild(options(pgdata))
      pglite = await PGlite.create(options(pgdata))
    } catch (error) {
      releaseLock()
      throw error
    }
  } else {
    pglite = await PGlite.create(options())
  }
  const { log, watchQueries } = queryLog(onQuery)
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite), log })
  return {
    kind: 'embedded',
    db,
    watchQueries,
    async withRawConnection(fn) {
      // Hold Kysely's only connection so no other query interleaves with the raw statements.
      return db.connection().execute(() =>
        fn({
          exec: async (script) => void (await pglite.exec(script)),
          query: async <Row>(text: string, params: unknown[] = []) => (await pglite.query<Row>(text, params)).rows,
        }),
      )
    },
    async close() {
      await db.destroy() // closes pglite
      releaseLock()
    },
  }
}

/**
 * PGlite does not guard its folder against a second process, which would corrupt it. A pid file
 * created with O_EXCL does; a file left by a process that died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'plusid.pid')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      return () => fs.rmSync(lockFile, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(fs.readFileSync(lockFile, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirInUseError(dataDir, pid)
      fs.rmSync(lockFile, { force: true })
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The first start runs initdb, for which PGlite briefly holds a second PostgreSQL instance and the
 * initdb program: about 500 MB that a process keeps long after (an idle server may never collect
 * it, and freed memory is not all returned to the system). A short-lived child process creates the
 * database instead, and this one then opens it as on any restart.
 */
async function createEmbeddedInChild(options: PGliteOptions): Promise<void> {
  const script = `const [url, options] = JSON.parse(process.argv[1])
    const { PGlite } = await import(url)
    await (await PGlite.create(options)).close()`
  const child = spawn(
    process.execPath,
    ['--input-type=module', '--eval', script, JSON.stringify([import.meta.resolve('@electric-sql/pglite'), options])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`Creating the embedded database failed: ${stderr.trim() || `exit code ${code}`}`)
}

/** One round trip that succeeds when the database answers (the readiness check). */
export async function pingDatabase(db: Executor): Promise<void> {
  await sql`SELECT 1`.execute(db)
}
