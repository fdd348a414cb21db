// Kysely's view of the tables in migrations/. Kept by hand next to the SQL: when a migration
// adds or changes a column, change it here in the same commit.
import type { ColumnType, Generated } from 'kysely'

/** timestamptz: read as Date, written as Date; `now()` defaults make it optional on insert. */
type Timestamp = ColumnType<Date, Date | undefined, Date>

export interface UsersTable {
  id: string
  email: string
  email_lookup: string
  password_hash: string
  display_name: string
  picture_url: string | null
  is_admin: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface ProfilesTable {
  user_id: string
  family_name: string | null
  given_name: string | null
  middle_name: string | null
  family_name_pronunciation: string | null
  given_name_pronunciation: string | null
  gender: string | null
  birthdate: string | null
  phone_number: string | null
  postal_code: string | null
  region: string | null
  locality: string | null
  street_address: string | null
  country: string | null
  updated_at: Timestamp
}

export interface SessionsTable {
  id: string
  secret_hash: Uint8Array
  user_id: string
  auth_time: Date
  created_at: Timestamp
  last_seen_at: Timestamp
  expires_at: Date
  ip: string | null
  user_agent: string | null
}

export interface PlusidMigrationsTable {
  name: string
  checksum: string
  applied_at: Timestamp
}

export interface DB {
  users: UsersTable
  profiles: ProfilesTable
  sessions: SessionsTable
  plusid_migrations: PlusidMigrationsTable
}
