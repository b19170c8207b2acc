-- Password-reset links sent by e-mail ([mail]): only the SHA-256 of each link's token is kept. A link works once
-- (used_at) and until expires_at. Times are Unix epoch milliseconds.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX password_resets_user ON password_resets(user_id);
