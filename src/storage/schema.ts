// Kysely's view of the tables in migrations/. The column types come from schema.generated.ts,
// which `npm run db:types` writes from the migrations themselves (CI fails when it is stale); this
// file only narrows what the database cannot say (the shapes of the jsonb columns, and that the
// audit log's details are never updated) and keeps two columns wider than their CHECK for now.
import type { ColumnType } from 'kysely'
import type * as Generated from './schema.generated.ts'

/**
 * `Table` with some columns' types replaced. A key that is not a column of `Table` is a type
 * error, so a migration that drops or renames a refined column cannot leave a stale refinement.
 */
type Refine<Table, Columns extends { [K in keyof Columns]: K extends keyof Table ? unknown : never }> = Omit<Table, keyof Columns> & Columns

/** A jsonb object column: read as an object (pg and PGlite parse it), written as JSON text. */
type JsonObject = ColumnType<Record<string, unknown>, string, string>

export type UsersTable = Generated.Users
export type ProfilesTable = Generated.Profiles
export type SessionsTable = Generated.Sessions
export type ProvidersTable = Generated.Providers
export type ProviderMembersTable = Generated.ProviderMembers
export type ChannelsTable = Generated.Channels
export type ChannelTestersTable = Generated.ChannelTesters
/** `item` stays `string` until the callers take item names from the Profile+ registry's type. */
export type ChannelPermissionsTable = Refine<Generated.ChannelPermissions, { item: string }>
export type SigningKeysTable = Refine<Generated.SigningKeys, { public_jwk: JsonObject }>
export type GrantsTable = Generated.Grants
export type InteractionsTable = Refine<Generated.Interactions, { request: JsonObject }>
export type AuthorizationCodesTable = Generated.AuthorizationCodes
export type RefreshTokensTable = Generated.RefreshTokens
export type AccessTokensTable = Generated.AccessTokens
export type ChannelAccessTokensTable = Generated.ChannelAccessTokens
export type PermissionApplicationsTable = Refine<Generated.PermissionApplications, { item: string }>
export type PermissionRefusalsTable = Generated.PermissionRefusals
export type AdminApiTokensTable = Generated.AdminApiTokens
/** Append-only (a trigger refuses updates), so no column can be set by an update. */
export type AuditLogTable = Refine<Generated.AuditLog, { details: ColumnType<Record<string, unknown>, string | undefined, never> }>
export type DataKeysTable = Generated.DataKeys
export type RateLimitsTable = Generated.RateLimits
export type MasterKeyCheckTable = Generated.MasterKeyCheck
export type InvitationsTable = Generated.Invitations
export type ChannelChangesTable = Generated.ChannelChanges
export type ChannelSecretRevealsTable = Generated.ChannelSecretReveals
export type PlusidMigrationsTable = Generated.PlusidMigrations

export type DB = Refine<
  Generated.DB,
  {
    channel_permissions: ChannelPermissionsTable
    permission_applications: PermissionApplicationsTable
    signing_keys: SigningKeysTable
    interactions: InteractionsTable
    audit_log: AuditLogTable
  }
>
