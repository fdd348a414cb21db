// `plusid keys rotate-data`: a new data key becomes current, every email and Profile+ value sealed
// under an older one is re-encrypted in small batches (each its own transaction, rows locked with
// SKIP LOCKED so running servers are never blocked for long), and retired keys no value uses any
// more are deleted. Interrupted, it resumes where it stopped: a run first finishes any earlier
// rotation before it starts a new one.
import { sql, type Kysely } from 'kysely'
import { PROFILE_COLUMNS, profileValueAad } from '../profile/items.ts'
import type { DB } from '../storage/schema.ts'
import { addDataKey, Keyring } from './keyring.ts'

// Every sealed Profile+ column comes from the item registry: a column missing here would keep
// values under a retired key, and the key's deletion below would then make them unreadable.

const keyIdOf = (value: string) => value.slice(0, value.indexOf('.'))

/** How many values are still sealed under a key other than the current one. */
async function staleRows(db: Kysely<DB>, current: string): Promise<number> {
  const stale = PROFILE_COLUMNS.map((column) => `split_part(${column}, '.', 1) <> '${current}'`).join(' OR ')
  const { rows } = await sql<{ n: number }>`
    SELECT ((SELECT count(*) FROM users WHERE split_part(email, '.', 1) <> ${current}) +
            (SELECT count(*) FROM profiles WHERE ${sql.raw(stale)}))::int AS n`.execute(db)
  return rows[0]?.n ?? 0
}

async function reencryptUsers(db: Kysely<DB>, ring: Keyring, batchSize: number): Promise<number> {
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

async function reencryptProfiles(db: Kysely<DB>, ring: Keyring, batchSize: number): Promise<number> {
  const stale = PROFILE_COLUMNS.map((column) => `split_part(${column}, '.', 1) <> '${ring.currentKeyId}'`).join(' OR ')
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<Record<string, string | null> & { user_id: string }>`
      SELECT user_id, ${sql.raw(PROFILE_COLUMNS.join(', '))} FROM profiles WHERE ${sql.raw(stale)} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`.execute(
      trx,
    )
    for (const row of rows) {
      const changes: Record<string, string | null> = {}
      for (const column of PROFILE_COLUMNS) {
        const value = row[column] ?? null
        if (value === null || keyIdOf(value) === ring.currentKeyId) continue
        const aad = profileValueAad(row.user_id, column)
        changes[column] = ring.seal(ring.open(value, aad), aad)
      }
      await trx.updateTable('profiles').set(changes).where('user_id', '=', row.user_id).execute()
    }
    return rows.length
  })
}

export interface DataRotation {
  current: string
  /** False when this run finished an earlier, interrupted rotation instead of starting one. */
  newKey: boolean
  reencrypted: number
  removed: string[]
}

export async function rotateDataKeys(
  db: Kysely<DB>,
  masterKey: Buffer,
  options: { waitSeconds: number; batchSize?: number; onProgress?: (done: number) => void },
): Promise<DataRotation> {
  let ring = await Keyring.open(db, masterKey)
  const unfinished = (await staleRows(db, ring.currentKeyId)) > 0
  if (!unfinished) {
    await addDataKey(db, masterKey)
    // Every process reloads its keyring within KEY_REFRESH_SECONDS: wait until all seal with the
    // new key, so no value is sealed under a retired key after it has been re-encrypted away.
    await new Promise((resolve) => setTimeout(resolve, options.waitSeconds * 1000))
    ring = await Keyring.open(db, masterKey)
  }
  const batchSize = options.batchSize ?? 500
  let reencrypted = 0
  for (const reencrypt of [reencryptUsers, reencryptProfiles]) {
    for (;;) {
      const done = await reencrypt(db, ring, batchSize)
      reencrypted += done
      options.onProgress?.(reencrypted)
      if (done < batchSize) break
    }
  }
  const inUse = PROFILE_COLUMNS.map((column) => `EXISTS (SELECT 1 FROM profiles WHERE split_part(${column}, '.', 1) = data_keys.id)`).join(
    ' OR ',
  )
  const { rows } = await sql<{ id: string }>`
    DELETE FROM data_keys WHERE state = 'retired'
      AND NOT EXISTS (SELECT 1 FROM users WHERE split_part(email, '.', 1) = data_keys.id)
      AND NOT (${sql.raw(inUse)})
    RETURNING id`.execute(db)
  return { current: ring.currentKeyId, newKey: !unfinished, reencrypted, removed: rows.map((row) => row.id) }
}
