// Profile+ values of one user: one row, a NULL column for an item not registered.
import type { Selectable } from 'kysely'
import { EMPTY_PROFILE, type ProfilePlus } from '../profile/profile.ts'
import type { Executor } from './database.ts'
import type { ProfilesTable } from './schema.ts'

/** Profile columns (as selected with users LEFT JOIN profiles: all NULL when there is no row). */
export type ProfileColumns = Omit<Selectable<ProfilesTable>, 'user_id' | 'updated_at'>

export function profileFromRow(row: ProfileColumns): ProfilePlus {
  return {
    realName:
      row.family_name !== null && row.given_name !== null && row.family_name_pronunciation !== null && row.given_name_pronunciation !== null
        ? {
            familyName: row.family_name,
            givenName: row.given_name,
            middleName: row.middle_name,
            familyNamePronunciation: row.family_name_pronunciation,
            givenNamePronunciation: row.given_name_pronunciation,
          }
        : null,
    gender: row.gender,
    birthdate: row.birthdate,
    phoneNumber: row.phone_number,
    address:
      row.postal_code !== null && row.region !== null && row.locality !== null && row.street_address !== null && row.country !== null
        ? { postalCode: row.postal_code, region: row.region, locality: row.locality, streetAddress: row.street_address, country: row.country }
        : null,
  }
}

export async function findProfile(db: Executor, userId: string): Promise<ProfilePlus> {
  const row = await db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst()
  return row ? profileFromRow(row) : EMPTY_PROFILE
}

/** Writes the items present in `changes` (null clears one); items absent are left as they are. */
export async function saveProfile(db: Executor, userId: string, changes: Partial<ProfilePlus>): Promise<void> {
  const columns: Partial<Omit<Selectable<ProfilesTable>, 'user_id' | 'updated_at'>> = {}
  if (changes.realName !== undefined) {
    const name = changes.realName
    Object.assign(columns, {
      family_name: name?.familyName ?? null,
      given_name: name?.givenName ?? null,
      middle_name: name?.middleName ?? null,
      family_name_pronunciation: name?.familyNamePronunciation ?? null,
      given_name_pronunciation: name?.givenNamePronunciation ?? null,
    })
  }
  if (changes.gender !== undefined) columns.gender = changes.gender
  if (changes.birthdate !== undefined) columns.birthdate = changes.birthdate
  if (changes.phoneNumber !== undefined) columns.phone_number = changes.phoneNumber
  if (changes.address !== undefined) {
    const address = changes.address
    Object.assign(columns, {
      postal_code: address?.postalCode ?? null,
      region: address?.region ?? null,
      locality: address?.locality ?? null,
      street_address: address?.streetAddress ?? null,
      country: address?.country ?? null,
    })
  }
  const now = new Date()
  await db
    .insertInto('profiles')
    .values({ user_id: userId, ...columns, updated_at: now })
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ ...columns, updated_at: now }))
    .execute()
}
