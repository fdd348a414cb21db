-- The developer console and the review workflow: permission applications, channel suspension,
-- refused authorizations shown to channel owners, administrators' API tokens, and the audit log.

ALTER TABLE channels ADD COLUMN suspended_at timestamptz;
ALTER TABLE channels ADD COLUMN suspended_reason text;
-- Prefix searches and their order use byte order (COLLATE "C"), whatever the database's collation,
-- so one index serves both the LIKE 'prefix%' range and the ORDER BY.
CREATE INDEX channels_name_idx ON channels ((lower(name) COLLATE "C"), id);
CREATE INDEX channels_created_idx ON channels (created_at DESC, id DESC);

CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- Every application a channel made for an item, with the review's outcome. The current right
-- itself stays in channel_permissions (read on every authorization).
CREATE TABLE permission_applications (
  id           uuid PRIMARY KEY,
  channel_id   text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  item         text NOT NULL CHECK (item IN ('email', 'real_name', 'gender', 'birthdate', 'phone', 'address')),
  purpose      text NOT NULL,
  policy_url   text NOT NULL,
  state        text NOT NULL CHECK (state IN ('applied', 'approved', 'rejected', 'suspended')),
  applicant_id uuid REFERENCES users (id) ON DELETE SET NULL,
  reviewer_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  reason       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  decided_at   timestamptz
);
CREATE INDEX permission_applications_queue_idx ON permission_applications (state, created_at, id);
CREATE INDEX permission_applications_channel_idx ON permission_applications (channel_id, item, created_at DESC);

-- Authorizations refused because an item's permission was missing: what the console tells the owner.
CREATE TABLE permission_refusals (
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  item       text NOT NULL,
  count      bigint NOT NULL DEFAULT 1,
  last_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, item)
);

-- Administrators' tokens for /admin/api/, stored by hash.
CREATE TABLE admin_api_tokens (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- Who did what to which object, when, from where. Append-only (the trigger refuses changes).
-- actor_id is a user's id without a foreign key: rows outlive the account as a pseudonym.
-- details never hold Profile+ values, only item names.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    uuid,
  actor_kind  text NOT NULL CHECK (actor_kind IN ('user', 'admin', 'api', 'cli', 'anonymous', 'channel')),
  action      text NOT NULL,
  object_type text,
  object_id   text,
  ip          text,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
