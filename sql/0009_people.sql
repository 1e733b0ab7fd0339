-- 0009: people signing in to the console (issue 13). A password per user (scrypt, salted, never the
-- password itself) and browser sessions whose token is stored only as sha256, like API tokens.

CREATE TABLE user_passwords (
  user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  hash         TEXT NOT NULL,                     -- scrypt$N$r$p$salt$key (base64url)
  updated_at   INTEGER NOT NULL
);

CREATE TABLE console_sessions (
  id           INTEGER PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash   TEXT NOT NULL UNIQUE,              -- sha256 of the cookie's value
  csrf         TEXT NOT NULL,                     -- sent back in X-CSRF-Token on every change
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  ended_at     INTEGER                            -- signed out
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
