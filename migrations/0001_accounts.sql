-- Accounts, their Profile+ data and browser sessions.
-- Migrations are frozen once merged: change the schema with a new file, never by editing this one.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  -- As entered, with the domain lower-cased (plusid.md §4).
  email         text NOT NULL,
  -- The key login looks the account up by: the whole address lower-cased, so that
  -- Hanako@Example.com and hanako@example.com are one account.
  email_lookup  text NOT NULL,
  password_hash text NOT NULL,
  display_name  text NOT NULL,
  picture_url   text,
  is_admin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lookup_key ON users (email_lookup);

-- One row per user once they saved Profile+ data; a NULL column is an item not registered.
CREATE TABLE profiles (
  user_id                   uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  family_name               text,
  given_name                text,
  middle_name               text,
  family_name_pronunciation text,
  given_name_pronunciation  text,
  gender                    text,
  birthdate                 text,  -- YYYY-MM-DD, kept as text: a date, not an instant
  phone_number              text,  -- E.164
  postal_code               text,
  region                    text,
  locality                  text,
  street_address            text,
  country                   text,  -- ISO 3166-1 alpha-2
  updated_at                timestamptz NOT NULL DEFAULT now()
);

-- Browser sessions. The cookie holds `id.secret`; only SHA-256(secret) is stored, so a leaked
-- table does not let anyone sign in.
CREATE TABLE sessions (
  id           text PRIMARY KEY,
  secret_hash  bytea NOT NULL,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- When the user last entered their password in this session (OIDC auth_time).
  auth_time    timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ip           text,
  user_agent   text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
