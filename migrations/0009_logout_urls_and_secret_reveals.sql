-- Logout URLs are a list of their own (post_logout_redirect_uri must be one of them, exactly),
-- no longer the callback list. Existing channels start with every callback URL as a logout URL,
-- so a relying party that returns after logout today still does after the upgrade; owners
-- prune the list in the console.
ALTER TABLE channels ADD COLUMN logout_urls text[] NOT NULL DEFAULT '{}';
UPDATE channels SET logout_urls = callback_urls;

-- A freshly issued channel secret waits here, sealed with the master key, for the one page view
-- that shows it to the owner who asked for it (the row is deleted as it is read), so a reload
-- of that page shows nothing and issues nothing. Rows live a few minutes.
CREATE TABLE channel_secret_reveals (
  id            uuid PRIMARY KEY,
  channel_id    text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sealed_secret text NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX channel_secret_reveals_expires_idx ON channel_secret_reveals (expires_at);
