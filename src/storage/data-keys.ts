// The data keys of encryption at rest (crypto/keyring.ts), stored wrapped by the master key, and
// the SQL of their rotation (keys/rotate-data.ts): which values are sealed under an older key,
// their re-encryption in batches, the deletion of retired keys nothing uses any more.
import { sql, type Kysely } from 'kysely'
import { Keyring, newWrappedDataKey, setKeyring, type WrappedDataKey } from '../crypto/keyring.ts'
import type { Executor } from './database.ts'
import { profileAad } from './profiles.ts'
import type { DB } from './schema.ts'

const DATA_KEY_LOCK = 7_052_818_116

export async function listDataKeys(db: Executor): Promise<WrappedDataKey[]> {
  const rows = await db.selectFrom('data_keys').select(['id', 'wrapped_key', 'state']).execute()
  return rows.map((row) => ({ id: row.id, wrappedKey: row.wrapped_key, state: row.state as WrappedDataKey['state'] }))
}

async function insertDataKey(db: Executor, key: WrappedDataKey): Promise<void> {
  await db.insertInto('data_keys').values({ id: key.id, wrapped_key: key.wrappedKey, state: key.state }).execute()
}

/** Creates the first data key when there is none (processes starting together make one). */
async function ensureDataKey(db: Kysely<DB>, masterKey: Buffer): Promise<void> {
  const existing = await db.selectFrom('data_keys').select('id').where('state', '=', 'current').executeTakeFirst()
  if (existing) return
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${DATA_KEY_LOCK})`.execute(trx)
    if (await trx.selectFrom('data_keys').select('id').where('state', '=', 'current').executeTakeFirst()) return
    await insertDataKey(trx, newWrappedDataKey(masterKey, 'current'))
  })
}

/** The keyring of the data keys in `db` (the first one is created if needed). */
export async function openKeyring(db: Kysely<DB>, masterKey: Buffer): Promise<Keyring> {
  await ensureDataKey(db, masterKey)
  return Keyring.open(masterKey, () => listDataKeys(db))
}

/** Opens the keyring and makes it the process's (crypto/keyring.ts). */
export async function installKeyring(db: Kysely<DB>, masterKey: Buffer): Promise<Keyring> {
  return setKeyring(await openKeyring(db, masterKey))
}

/**
 * A new current data key; the previous one is retired (still opens what it sealed). Returns the
 * new key's id and the retired ones.
 */
export async function addDataKey(db: Kysely<DB>, masterKey: Buffer): Promise<{ current: string; retired: string[] }> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${DATA_KEY_LOCK})`.execute(trx)
    const retired = await trx.updateTable('data_keys').set({ state: 'retired' }).where('state', '=', 'current').returning('id').execute()
    const current = newWrappedDataKey(masterKey, 'current')
    await insertDataKey(trx, current)
    return { current: current.id, retired: retired.map((row) => row.id) }
  })
}

const keyIdOf = (value: string) => value.slice(0, value.indexOf('.'))

// The sealed profile columns are given by the caller (the Profile+ item registry): a column
// missing there would keep values under a retired key, and deleteUnusedDataKeys would then make
// them unreadable.

/** How many values are still sealed under a key other than `current`. */
export async function countStaleValues(db: Executor, current: string, profileColumns: readonly string[]): Promise<number> {
  const stale = profileColumns.map((column) => `split_part(${column}, '.', 1) <> '${current}'`).join(' OR ')
  const { rows } = await sql<{ n: number }>`
    SELECT ((SELECT count(*) FROM users WHERE split_part(email, '.', 1) <> ${current}) +
            (SELECT count(*) FROM profiles WHERE ${sql.raw(stale)}))::int AS n`.execute(db)
  return rows[0]?.n ?? 0
}

/** Re-encrypts up to `batchSize` emails sealed under an older key, in one transaction; returns how many. */
export async function reencryptEmails(db: Kysely<DB>, ring: Keyring, batchSize: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string; email: string }>`
      SELECT id, email FROM users WHERE split_part(email, '.', 1) <> ${ring.currentKeyId} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`.execute(
      trx,
    )
    for (const row of rows) {
      const aad = `users.email:${row.id}`
      await trx
        .updateTable('users')
        .set({ email: ring.seal(ring.open(row.email, aad), aad) })
        .where('id', '=', row.id)
        .execute()
    }
    return rows.length
  })
}

/** Re-encrypts up to `batchSize` profiles with a value sealed under an older key; returns how many. */
export async function reencryptProfiles(
  db: Kysely<DB>,
  ring: Keyring,
  profileColumns: readonly string[],
  batchSize: number,
): Promise<number> {
  const stale = profileColumns.map((column) => `split_part(${column}, '.', 1) <> '${ring.currentKeyId}'`).join(' OR ')
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<Record<string, string | null> & { user_id: string }>`
      SELECT user_id, ${sql.raw(profileColumns.join(', '))} FROM profiles WHERE ${sql.raw(stale)} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`.execute(
      trx,
    )
    for (const row of rows) {
      const changes: Record<string, string | null> = {}
      for (const column of profileColumns) {
        const value = row[column] ?? null
        if (value === null || keyIdOf(value) === ring.currentKeyId) continue
        const aad = profileAad(row.user_id, column)
        changes[column] = ring.seal(ring.open(value, aad), aad)
      }
      await trx.updateTable('profiles').set(changes).where('user_id', '=', row.user_id).execute()
    }
    return rows.length
  })
}

/** Deletes the retired data keys no email or profile value is sealed under; returns their ids. */
export async function deleteUnusedDataKeys(db: Executor, profileColumns: readonly string[]): Promise<string[]> {
  const inUse = profileColumns
    .map((column) => `EXISTS (SELECT 1 FROM profiles WHERE split_part(${column}, '.', 1) = data_keys.id)`)
    .join(' OR ')
  const { rows } = await sql<{ id: string }>`
    DELETE FROM data_keys WHERE state = 'retired'
      AND NOT EXISTS (SELECT 1 FROM users WHERE split_part(email, '.', 1) = data_keys.id)
      AND NOT (${sql.raw(inUse)})
    RETURNING id`.execute(db)
  return rows.map((row) => row.id)
}
