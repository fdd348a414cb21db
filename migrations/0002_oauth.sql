-- The login protocol: providers and their channels (OAuth clients), signing keys, grants,
-- interactions (a login in progress), authorization codes and tokens.

-- An organisation owning channels. Its pairwise secret derives the `sub` its channels see, so two
-- providers cannot correlate a user (plusid.md §3).
CREATE TABLE providers (
  id              uuid PRIMARY KEY,
  name            text NOT NULL,
  pairwise_secret bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX providers_name_key ON providers (name);

CREATE TABLE provider_members (
  provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('owner', 'developer')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, user_id)
);
CREATE INDEX provider_members_user_id_idx ON provider_members (user_id);

CREATE TABLE channels (
  id                 text PRIMARY KEY,            -- the client_id: 10 digits
  provider_id        uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  name               text NOT NULL,
  description        text NOT NULL DEFAULT '',
  icon_url           text,
  privacy_policy_url text,
  kind               text NOT NULL CHECK (kind IN ('web', 'spa', 'native')),
  callback_urls      text[] NOT NULL,
  id_token_alg       text NOT NULL CHECK (id_token_alg IN ('ES256', 'RS256', 'HS256')),
  status             text NOT NULL CHECK (status IN ('developing', 'published')),
  error_style        text NOT NULL DEFAULT 'rfc' CHECK (error_style IN ('rfc', 'line')),
  require_pkce       boolean NOT NULL DEFAULT false,
  secret_hash        bytea,                       -- SHA-256 of the secret; NULL for public kinds
  secret_encrypted   text,                        -- HS256 channels only: the secret under the master key
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channels_provider_id_idx ON channels (provider_id);

CREATE TABLE channel_testers (
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, user_id)
);

-- A channel's right to request `email` or a Profile+ item; only `approved` lets it ask.
CREATE TABLE channel_permissions (
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  item       text NOT NULL CHECK (item IN ('email', 'real_name', 'gender', 'birthdate', 'phone', 'address')),
  state      text NOT NULL CHECK (state IN ('applied', 'approved', 'rejected', 'suspended')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, item)
);

-- ID token signing keys: next (published, not used yet) → current (signing) → retired (published
-- until every token it signed has expired). Private parts are encrypted with the master key.
CREATE TABLE signing_keys (
  kid                   text PRIMARY KEY,
  alg                   text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
  state                 text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
  public_jwk            jsonb NOT NULL,
  private_jwk_encrypted text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  activated_at          timestamptz,
  retired_at            timestamptz,
  expires_at            timestamptz                   -- retired keys leave the JWKS then
);
CREATE UNIQUE INDEX signing_keys_one_current_per_alg ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next_per_alg ON signing_keys (alg) WHERE state = 'next';

-- What a user decided for a channel: items granted and items refused.
CREATE TABLE grants (
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id    text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  granted_items text[] NOT NULL,
  refused_items text[] NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX grants_channel_id_idx ON grants (channel_id);

-- A login in progress: the validated authorization request, bound to the browser that started it.
CREATE TABLE interactions (
  id           text PRIMARY KEY,
  browser_hash bytea NOT NULL,                    -- SHA-256 of the browser's interaction cookie
  channel_id   text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  request      jsonb NOT NULL,
  user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
  auth_time    timestamptz,                       -- set when the user logged in during this interaction
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX interactions_expires_at_idx ON interactions (expires_at);

-- Authorization codes, by hash. A used code is marked, not deleted, so its reuse is detected and
-- revokes the tokens it issued (token_family).
CREATE TABLE authorization_codes (
  code_hash      bytea PRIMARY KEY,
  channel_id     text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri   text NOT NULL,
  scopes         text[] NOT NULL,
  nonce          text,
  code_challenge text,
  auth_time      timestamptz NOT NULL,
  amr            text[] NOT NULL,
  token_family   uuid NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  consumed_at    timestamptz
);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

-- Refresh tokens, by hash. Every token issued from one code shares a family: reuse of a
-- consumed refresh token (public channels rotate them) or of the code revokes the family.
CREATE TABLE refresh_tokens (
  token_hash   bytea PRIMARY KEY,
  token_family uuid NOT NULL,
  channel_id   text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scopes       text[] NOT NULL,
  auth_time    timestamptz NOT NULL,
  amr          text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,               -- 90 days from the family's first token; never extended
  consumed_at  timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (token_family);
CREATE INDEX refresh_tokens_user_channel_idx ON refresh_tokens (user_id, channel_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE access_tokens (
  token_hash   bytea PRIMARY KEY,
  token_family uuid NOT NULL,
  channel_id   text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX access_tokens_family_idx ON access_tokens (token_family);
CREATE INDEX access_tokens_user_channel_idx ON access_tokens (user_id, channel_id);
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);

-- Channel access tokens (client_credentials at /oauth2/v3/token): 15 minutes.
CREATE TABLE channel_access_tokens (
  token_hash bytea PRIMARY KEY,
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX channel_access_tokens_expires_at_idx ON channel_access_tokens (expires_at);
