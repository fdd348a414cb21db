-- An administrator can disable an account: it can no longer log in. Its sessions, unused codes
-- and tokens are ended in the transaction that sets this, so no request path has to check it.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
