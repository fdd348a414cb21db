// The master key encrypts signing keys, data keys, HS256 channel secrets and pairwise secrets. It
// never goes into the database, or a dump would unlock itself: it comes from PLUSID_MASTER_KEY, or
// is generated once into DATA_DIR/master.key with a warning.
//
// The database keeps a check value of the key (README, Security: Master key): a process given another
// key refuses to start (exit 2, MasterKeyError) before it writes anything, and no key is generated
// for a database that already holds sealed data — that data needs the key it was sealed with.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import type { Kysely } from 'kysely'
import type { DB } from './storage/schema.ts'
import { findMasterKeyCheck, holdsSealedData, opensSealedValue, recordMasterKeyCheck } from './storage/master-key-check.ts'

export class MasterKeyError extends Error {
  override name = 'MasterKeyError'
}

/** The check value: HMAC-SHA256 under the key of a fixed text; it reveals nothing of the key. */
export function masterKeyCheckValue(key: Buffer): Buffer {
  return createHmac('sha256', key).update('plusid master key check v1').digest()
}

function keyFile(config: Config): string {
  return path.join(config.dataDir, 'master.key')
}

function readKeyFile(file: string): Buffer {
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex')
  if (key.length !== 32) throw new MasterKeyError(`${file} does not hold a 32-byte hex key; set PLUSID_MASTER_KEY or remove the file`)
  return key
}

/**
 * The master key, checked against the database before anything is written to it (migrations
 * included): PLUSID_MASTER_KEY, else DATA_DIR/master.key, else a new one — only for a database that
 * holds nothing sealed yet. Throws MasterKeyError, with a message naming PLUSID_MASTER_KEY, when the
 * key does not match or would have to be invented. After migrating, rememberMasterKey records it.
 */
export async function resolveMasterKey(config: Config, db: Kysely<DB>, log: Pick<Logger, 'warn'>): Promise<Buffer> {
  const file = keyFile(config)
  const fromEnv = config.masterKey
  const fromFile = !fromEnv && fs.existsSync(file) ? readKeyFile(file) : undefined
  const given = fromEnv ?? fromFile
  const source = fromEnv ? 'PLUSID_MASTER_KEY' : `the key in ${file} (PLUSID_MASTER_KEY is not set)`
  if (given) {
    await verifyMasterKey(db, given, source)
    return given
  }
  if (await holdsSealedData(db)) {
    throw new MasterKeyError(
      'PLUSID_MASTER_KEY is not set, and this database holds data sealed with a master key: set PLUSID_MASTER_KEY to the key it was made with (no new key was generated: it could not open that data)',
    )
  }
  const key = randomBytes(32)
  fs.mkdirSync(config.dataDir, { recursive: true })
  try {
    fs.writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (error) {
    // Another process sharing the folder wrote it first: use that one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveMasterKey(config, db, log)
    throw error
  }
  log.warn(
    `PLUSID_MASTER_KEY is not set: generated one in ${file}. Back it up; every plusid process sharing this database needs the same key.`,
  )
  return key
}

/** Read-only: the check value when the database has one, else whether the key opens a sealed value there. */
async function verifyMasterKey(db: Kysely<DB>, key: Buffer, source: string): Promise<void> {
  const stored = await findMasterKeyCheck(db)
  const matches = stored ? sameValue(stored, masterKeyCheckValue(key)) : await opensSealedValue(db, key)
  if (!matches) throw mismatch(source)
}

/**
 * Records the key's check value in a migrated database that has none (made before the check
 * existed, or new), then compares: of two processes with different keys starting together on a
 * new database, the second stops here.
 */
export async function rememberMasterKey(db: Kysely<DB>, key: Buffer, source = 'PLUSID_MASTER_KEY'): Promise<void> {
  await verifyMasterKey(db, key, source)
  const stored = (await findMasterKeyCheck(db)) ?? (await recordMasterKeyCheck(db, masterKeyCheckValue(key)))
  if (!sameValue(stored, masterKeyCheckValue(key))) throw mismatch(source)
}

const sameValue = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b)

function mismatch(source: string): MasterKeyError {
  return new MasterKeyError(
    `${source} is not the master key this database was sealed with: start plusid with PLUSID_MASTER_KEY set to that key (every process sharing the database needs the same one). Nothing was written.`,
  )
}
