-- Data keys: the AES-256 keys that encrypt emails and Profile+ values, each wrapped (sealed) by
-- the master key, which never enters the database. One is current (new values use it); retired
-- ones remain until `plusid keys rotate-data` has re-encrypted every value they sealed.
CREATE TABLE data_keys (
  id          text PRIMARY KEY,
  wrapped_key text NOT NULL,
  state       text NOT NULL CHECK (state IN ('current', 'retired')),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX data_keys_one_current ON data_keys (state) WHERE state = 'current';
