-- Where and when each session was last used, for the account page's list of sessions: the browser's User-Agent
-- and the client address of its latest request, written at most every few minutes (see `Store::touch_session`).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
