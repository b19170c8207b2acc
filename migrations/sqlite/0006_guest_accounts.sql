-- Guest accounts, made for share-link visitors when sharing.anonymous_links is on, are marked so that the server
-- can refuse them what only accounts may do (create documents, import, API tokens, sharing). Guests made before
-- this column existed are recognised by the e-mail the server gave them.
ALTER TABLE users ADD COLUMN guest INTEGER NOT NULL DEFAULT 0;
UPDATE users SET guest = 1 WHERE email LIKE 'guest-%@guest.invalid';
