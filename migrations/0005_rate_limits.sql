-- Counters for rate limits and account lockout, shared by every plusid process. A row per key
-- (an IP and an action, or an account's lookup hash); the upsert that counts takes the row lock, so
-- concurrent attempts on any process are counted exactly.
CREATE TABLE rate_limits (
  key          text PRIMARY KEY,
  count        integer NOT NULL,
  window_start timestamptz NOT NULL,
  blocked_until timestamptz
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
