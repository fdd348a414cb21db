-- Hardening for the open internet: the master key's check value, invitations to providers and
-- channels, and changes to approved channels for administrators to look at.

-- A check value of the master key (HMAC-SHA256 under the key of a fixed text), so a process given
-- another key refuses to start instead of failing on the first sealed value. One row at most.
CREATE TABLE master_key_check (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  check_value bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Adding a member to a provider or a tester to a channel is an invitation the invitee accepts or
-- declines on their own pages; until then it grants nothing.
CREATE TABLE invitations (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('member', 'tester')),
  provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  channel_id  text REFERENCES channels (id) ON DELETE CASCADE,
  role        text CHECK (role IN ('owner', 'developer')),
  invitee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  inviter_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  CHECK ((kind = 'member') = (role IS NOT NULL)),
  CHECK ((kind = 'tester') = (channel_id IS NOT NULL))
);
CREATE UNIQUE INDEX invitations_member_key ON invitations (provider_id, invitee_id) WHERE kind = 'member';
CREATE UNIQUE INDEX invitations_tester_key ON invitations (channel_id, invitee_id) WHERE kind = 'tester';
CREATE INDEX invitations_invitee_idx ON invitations (invitee_id, created_at);

-- Name, icon or callback URLs changed after an administrator approved an item of the channel:
-- shown in the review queue with the old and new values until an administrator has looked.
CREATE TABLE channel_changes (
  id          uuid PRIMARY KEY,
  channel_id  text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  field       text NOT NULL CHECK (field IN ('name', 'icon_url', 'callback_urls')),
  old_value   jsonb NOT NULL,
  new_value   jsonb NOT NULL,
  actor_id    uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  reviewed_at timestamptz,
  reviewer_id uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX channel_changes_pending_idx ON channel_changes (created_at, id) WHERE reviewed_at IS NULL;
CREATE INDEX channel_changes_channel_idx ON channel_changes (channel_id, created_at DESC);
