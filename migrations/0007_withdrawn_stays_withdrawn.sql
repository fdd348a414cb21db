-- What a user withdrew stays withdrawn.
-- Administrators' API tokens expire. Tokens made before this migration get 90 days from now
-- rather than dying at once (their owners would be locked out of automation without warning).
ALTER TABLE admin_api_tokens ADD COLUMN expires_at timestamptz;
UPDATE admin_api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE admin_api_tokens ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX admin_api_tokens_user_id_idx ON admin_api_tokens (user_id);

-- Ending a user's access (unlink, password change, disable) deletes their codes, used ones too:
-- a code being exchanged at that moment then finds its row gone and issues nothing.
CREATE INDEX authorization_codes_user_channel_idx ON authorization_codes (user_id, channel_id);
