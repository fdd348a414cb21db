// `plusid keys rotate-data`: a new data key becomes current, every email and Profile+ value sealed
// under an older one is re-encrypted in small batches (each its own transaction, rows locked with
// SKIP LOCKED so running servers are never blocked for long), and retired keys no value uses any
// more are deleted. Interrupted, it resumes where it stopped: a run first finishes any earlier
// rotation before it starts a new one.
import type { Kysely } from 'kysely'
import { PROFILE_COLUMNS } from '../profile/items.ts'
import {
  addDataKey,
  countStaleValues,
  deleteUnusedDataKeys,
  openKeyring,
  reencryptEmails,
  reencryptProfiles,
} from '../storage/data-keys.ts'
import type { DB } from '../storage/schema.ts'

// Every sealed Profile+ column comes from the item registry (see storage/data-keys.ts for why it matters).

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
  let ring = await openKeyring(db, masterKey)
  const unfinished = (await countStaleValues(db, ring.currentKeyId, PROFILE_COLUMNS)) > 0
  if (!unfinished) {
    await addDataKey(db, masterKey)
    // Every process reloads its keyring within KEY_REFRESH_SECONDS: wait until all seal with the
    // new key, so no value is sealed under a retired key after it has been re-encrypted away.
    await new Promise((resolve) => setTimeout(resolve, options.waitSeconds * 1000))
    ring = await openKeyring(db, masterKey)
  }
  const batchSize = options.batchSize ?? 500
  let reencrypted = 0
  const batches = [() => reencryptEmails(db, ring, batchSize), () => reencryptProfiles(db, ring, PROFILE_COLUMNS, batchSize)]
  for (const reencrypt of batches) {
    for (;;) {
      const done = await reencrypt()
      reencrypted += done
      options.onProgress?.(reencrypted)
      if (done < batchSize) break
    }
  }
  const removed = await deleteUnusedDataKeys(db, PROFILE_COLUMNS)
  return { current: ring.currentKeyId, newKey: !unfinished, reencrypted, removed }
}
