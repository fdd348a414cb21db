// Profile+ values of one user: one row, a NULL column for an item not registered.
import { sql, type RawBuilder, type Selectable } from 'kysely'
import { EMPTY_PROFILE, type ProfilePlus } from '../domain/profile.ts'
import type { Executor } from './database.ts'
import type { ProfilesTable } from './schema.ts'
import { keyring } from '../crypto/keyring.ts'

/** Profile columns (as selected with users LEFT JOIN profiles: all NULL when there is no row). */
export type ProfileColumns = Omit<Selectable<ProfilesTable>, 'user_id' | 'updated_at'>

const SEALED_COLUMNS = [
  'family_name',
  'given_name',
  'middle_name',
  'family_name_pronunciation',
  'given_name_pronunciation',
  'gender',
  'birthdate',
  'phone_number',
  'postal_code',
  'region',
  'locality',
  'street_address',
  'country',
] as const satisfies readonly (keyof ProfileColumns)[]

/** The select list of every Profile+ column of a profiles row joined under `alias` (all of them are sealed). */
export function profileSelect(alias: string): RawBuilder<unknown> {
  return sql.raw(SEALED_COLUMNS.map((column) => `${alias}.${column}`).join(', '))
}

/** Each value is sealed with its column and the user's id as associated data. */
export const profileAad = (userId: string, column: string) => `profiles.${column}:${userId}`

const ITEM_COLUMNS: Record<string, readonly (keyof ProfileColumns)[]> = {
  real_name: ['family_name', 'given_name', 'middle_name', 'family_name_pronunciation', 'given_name_pronunciation'],
  gender: ['gender'],
  birthdate: ['birthdate'],
  phone: ['phone_number'],
  address: ['postal_code', 'region', 'locality', 'street_address', 'country'],
}

/**
 * Opens the sealed profile columns of a row (NULL stays NULL: the item is not registered). Given
 * `items` (the scopes a token carries), only their columns are opened: the others read as not
 * registered, and the hot paths decrypt nothing they will not release.
 */
export function profileFromRow(sealed: ProfileColumns, userId: string, items?: readonly string[]): ProfilePlus {
  const ring = keyring()
  const columns = items ? SEALED_COLUMNS.filter((column) => items.some((item) => ITEM_COLUMNS[item]?.includes(column))) : SEALED_COLUMNS
  const row = Object.fromEntries(
    columns.map((column) => [column, ring.openNullable(sealed[column] ?? null, profileAad(userId, column))]),
  ) as ProfileColumns
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
        ? {
            postalCode: row.postal_code,
            region: row.region,
            locality: row.locality,
            streetAddress: row.street_address,
            country: row.country,
          }
        : null,
  }
}

export async function findProfile(db: Executor, userId: string): Promise<ProfilePlus> {
  const row = await db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst()
  return row ? profileFromRow(row, userId) : EMPTY_PROFILE
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
  // Every value is sealed before it leaves the process.
  const ring = keyring()
  for (const [column, value] of Object.entries(columns))
    (columns as Record<string, string | null>)[column] = ring.sealNullable(value as string | null, profileAad(userId, column))
  const now = new Date()
  await db
    .insertInto('profiles')
    .values({ user_id: userId, ...columns, updated_at: now })
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ ...columns, updated_at: now }))
    .execute()
}
