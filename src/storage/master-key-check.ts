// The master key's check value (master-key.ts), and what the start needs to know about sealed
// data. The start asks before migrating, so each read first looks whether its table exists yet.
import { sql } from 'kysely'
import type { Executor } from './database.ts'
import { open } from '../crypto/secret-box.ts'

async function existingTables(db: Executor, names: string[]): Promise<Set<string>> {
  const { rows } = await sql<{
    name: string
  }>`SELECT name FROM unnest(${names}::text[]) AS name WHERE to_regclass(name) IS NOT NULL`.execute(db)
  return new Set(rows.map((row) => row.name))
}

export async function findMasterKeyCheck(db: Executor): Promise<Buffer | undefined> {
  if (!(await existingTables(db, ['master_key_check'])).has('master_key_check')) return undefined
  const row = await db.selectFrom('master_key_check').select('check_value').executeTakeFirst()
  return row ? Buffer.from(row.check_value) : undefined
}

/** Records the check value unless one is there already; returns the one in force. */
export async function recordMasterKeyCheck(db: Executor, value: Buffer): Promise<Buffer> {
  await db
    .insertInto('master_key_check')
    .values({ check_value: value })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
  return (await findMasterKeyCheck(db))!
}

/** Whether anything in the database was sealed with a master key (so a new key would be useless). */
export async function holdsSealedData(db: Executor): Promise<boolean> {
  const tables = await existingTables(db, ['master_key_check', 'data_keys', 'signing_keys'])
  for (const table of tables) {
    const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.table(table)}) AS any`.execute(db)
    if (rows[0]?.any) return true
  }
  return false
}

/**
 * Whether the key opens a value sealed under it (a wrapped data key, else a signing key); true when
 * nothing is sealed yet.
 */
export async function opensSealedValue(db: Executor, key: Buffer): Promise<boolean> {
  const tables = await existingTables(db, ['data_keys', 'signing_keys'])
  const dataKey = tables.has('data_keys')
    ? await db.selectFrom('data_keys').select(['id', 'wrapped_key']).limit(1).executeTakeFirst()
    : undefined
  const signingKey =
    !dataKey && tables.has('signing_keys')
      ? await db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).limit(1).executeTakeFirst()
      : undefined
  try {
    if (dataKey) open(key, dataKey.wrapped_key, `data-key:${dataKey.id}`)
    else if (signingKey) open(key, signingKey.private_jwk_encrypted, `signing-key:${signingKey.kid}`)
    return true
  } catch {
    return false
  }
}
