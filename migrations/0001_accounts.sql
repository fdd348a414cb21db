-- Accounts, their Profile+ data and browser sessions.
-- Migrations are frozen once merged: change the schema with a new file, never by editing this one.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  -- The address as entered (domain lower-cased), encrypted: `<data key id>.v1.<iv>.<tag>.<ciphertext>`
  -- (AES-256-GCM, the row's id in the associated data). A dump does not reveal it.
  email         text NOT NULL,
  -- What login looks the account up by: HMAC-SHA256 of the lower-cased address under a key
  -- derived from the master key, so Hanako@Example.com and hanako@example.com are one account
  -- and no row needs decrypting to find one.
  email_hmac    bytea NOT NULL,
  password_hash text NOT NULL,
  display_name  text NOT NULL,
  picture_url   text,
  is_admin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_hmac_key ON users (email_hmac);

-- One row per user once they saved Profile+ data; a NULL column is an item not registered. Every
-- value is encrypted like users.email, with `profiles.<column>:<user id>` as associated data.
CREATE TABLE profiles (
  user_id                   uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  family_name               text,
  given_name                text,
  middle_name               text,
  family_name_pronunciation text,
  given_name_pronunciation  text,
  gender                    text,
  birthdate                 text,  -- YYYY-MM-DD once decrypted
  phone_number              text,  -- E.164 once decrypted
  postal_code               text,
  region                    text,
  locality                  text,
  street_address            text,
  country                   text,  -- ISO 3166-1 alpha-2 once decrypted
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
