-- Accounts, documents, sharing, the operation log and snapshots. Times are Unix epoch milliseconds.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE invites (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE documents (
    id                 TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    owner_id           TEXT NOT NULL REFERENCES users(id),
    current_version_id TEXT,
    head_rev           BIGINT NOT NULL DEFAULT 0,
    last_editor_id     TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    trashed_at         BIGINT
);
CREATE INDEX documents_owner ON documents(owner_id, updated_at);

CREATE TABLE document_members (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);
CREATE INDEX document_members_user ON document_members(user_id);

CREATE TABLE share_links (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    doc_id      TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- The operation log, hash-partitioned by document. The primary key is the compare-and-set that stops two writers forking a document.
CREATE TABLE operations (
    doc_id     TEXT NOT NULL,
    rev        BIGINT NOT NULL,
    client     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    author_id  TEXT,
    op         TEXT NOT NULL,
    len_after  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (doc_id, rev)
) PARTITION BY HASH (doc_id);
CREATE TABLE operations_p0 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE operations_p1 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE operations_p2 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE operations_p3 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE operations_p4 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE operations_p5 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE operations_p6 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE operations_p7 PARTITION OF operations FOR VALUES WITH (MODULUS 8, REMAINDER 7);

CREATE TABLE document_versions (
    id         TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    rev        BIGINT NOT NULL,
    content    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX document_versions_doc ON document_versions(doc_id, rev);
