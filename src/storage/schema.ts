// Kysely's view of the tables in migrations/. Kept by hand next to the SQL: when a migration
// adds or changes a column, change it here in the same commit.
import type { ColumnType, Generated } from 'kysely'

/** timestamptz: read as Date, written as Date; `now()` defaults make it optional on insert. */
type Timestamp = ColumnType<Date, Date | undefined, Date>

export interface UsersTable {
  id: string
  email: string
  email_hmac: Uint8Array
  password_hash: string
  display_name: string
  picture_url: string | null
  is_admin: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
  disabled_at: Timestamp | null
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

export interface ProvidersTable {
  id: string
  name: string
  pairwise_secret: Uint8Array
  created_at: Timestamp
}

export interface ProviderMembersTable {
  provider_id: string
  user_id: string
  role: 'owner' | 'developer'
  created_at: Timestamp
}

export interface ChannelsTable {
  id: string
  provider_id: string
  name: string
  description: Generated<string>
  icon_url: string | null
  privacy_policy_url: string | null
  kind: 'web' | 'spa' | 'native'
  callback_urls: string[]
  logout_urls: Generated<string[]>
  id_token_alg: 'ES256' | 'RS256' | 'HS256'
  status: 'developing' | 'published'
  error_style: Generated<'rfc' | 'line'>
  require_pkce: Generated<boolean>
  secret_hash: Uint8Array | null
  secret_encrypted: string | null
  created_at: Timestamp
  updated_at: Timestamp
  suspended_at: Date | null
  suspended_reason: string | null
}

export interface ChannelSecretRevealsTable {
  id: string
  channel_id: string
  user_id: string
  sealed_secret: string
  expires_at: Date
}

export interface ChannelTestersTable {
  channel_id: string
  user_id: string
  created_at: Timestamp
}

export interface ChannelPermissionsTable {
  channel_id: string
  item: string
  state: 'applied' | 'approved' | 'rejected' | 'suspended'
  updated_at: Timestamp
}

export interface SigningKeysTable {
  kid: string
  alg: 'ES256' | 'RS256'
  state: 'next' | 'current' | 'retired'
  public_jwk: ColumnType<Record<string, unknown>, string, string>
  private_jwk_encrypted: string
  created_at: Timestamp
  activated_at: Date | null
  retired_at: Date | null
  expires_at: Date | null
}

export interface GrantsTable {
  user_id: string
  channel_id: string
  granted_items: string[]
  refused_items: string[]
  created_at: Timestamp
  updated_at: Timestamp
  last_used_at: Timestamp
}

export interface InteractionsTable {
  id: string
  browser_hash: Uint8Array
  channel_id: string
  request: ColumnType<Record<string, unknown>, string, string>
  user_id: string | null
  auth_time: Date | null
  created_at: Timestamp
  expires_at: Date
}

export interface AuthorizationCodesTable {
  code_hash: Uint8Array
  channel_id: string
  user_id: string
  redirect_uri: string
  scopes: string[]
  nonce: string | null
  code_challenge: string | null
  auth_time: Date
  amr: string[]
  token_family: string
  created_at: Timestamp
  expires_at: Date
  consumed_at: Date | null
}

export interface RefreshTokensTable {
  token_hash: Uint8Array
  token_family: string
  channel_id: string
  user_id: string
  scopes: string[]
  auth_time: Date
  amr: string[]
  created_at: Timestamp
  expires_at: Date
  consumed_at: Date | null
  revoked_at: Date | null
}

export interface AccessTokensTable {
  token_hash: Uint8Array
  token_family: string
  channel_id: string
  user_id: string
  scopes: string[]
  created_at: Timestamp
  expires_at: Date
  revoked_at: Date | null
}

export interface ChannelAccessTokensTable {
  token_hash: Uint8Array
  channel_id: string
  created_at: Timestamp
  expires_at: Date
}

export interface PermissionApplicationsTable {
  id: string
  channel_id: string
  item: string
  purpose: string
  policy_url: string
  state: 'applied' | 'approved' | 'rejected' | 'suspended'
  applicant_id: string | null
  reviewer_id: string | null
  reason: string | null
  created_at: Timestamp
  decided_at: Date | null
}

export interface PermissionRefusalsTable {
  channel_id: string
  item: string
  count: ColumnType<string, number | undefined, number>
  last_at: Timestamp
}

export interface AdminApiTokensTable {
  id: string
  user_id: string
  token_hash: Uint8Array
  created_at: Timestamp
  revoked_at: Date | null
  last_used_at: Date | null
  expires_at: Date
}

export interface AuditLogTable {
  id: Generated<string>
  at: Timestamp
  actor_id: string | null
  actor_kind: 'user' | 'admin' | 'api' | 'cli' | 'anonymous' | 'channel'
  action: string
  object_type: string | null
  object_id: string | null
  ip: string | null
  details: ColumnType<Record<string, unknown>, string | undefined, never>
}

export interface RateLimitsTable {
  key: string
  count: number
  window_start: Date
  blocked_until: Date | null
}

export interface DataKeysTable {
  id: string
  wrapped_key: string
  state: 'current' | 'retired'
  created_at: Timestamp
}

export interface MasterKeyCheckTable {
  id: Generated<boolean>
  check_value: Uint8Array
  created_at: Timestamp
}

export interface InvitationsTable {
  id: string
  kind: 'member' | 'tester'
  provider_id: string
  channel_id: string | null
  role: 'owner' | 'developer' | null
  invitee_id: string
  inviter_id: string | null
  created_at: Timestamp
  expires_at: Timestamp
}

export interface ChannelChangesTable {
  id: string
  channel_id: string
  field: 'name' | 'icon_url' | 'callback_urls'
  old_value: ColumnType<unknown, string, never>
  new_value: ColumnType<unknown, string, never>
  actor_id: string | null
  created_at: Timestamp
  reviewed_at: Timestamp | null
  reviewer_id: string | null
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
  providers: ProvidersTable
  provider_members: ProviderMembersTable
  channels: ChannelsTable
  channel_testers: ChannelTestersTable
  channel_secret_reveals: ChannelSecretRevealsTable
  channel_permissions: ChannelPermissionsTable
  signing_keys: SigningKeysTable
  grants: GrantsTable
  interactions: InteractionsTable
  authorization_codes: AuthorizationCodesTable
  refresh_tokens: RefreshTokensTable
  access_tokens: AccessTokensTable
  channel_access_tokens: ChannelAccessTokensTable
  permission_applications: PermissionApplicationsTable
  permission_refusals: PermissionRefusalsTable
  admin_api_tokens: AdminApiTokensTable
  audit_log: AuditLogTable
  data_keys: DataKeysTable
  rate_limits: RateLimitsTable
  master_key_check: MasterKeyCheckTable
  invitations: InvitationsTable
  channel_changes: ChannelChangesTable
  plusid_migrations: PlusidMigrationsTable
}
