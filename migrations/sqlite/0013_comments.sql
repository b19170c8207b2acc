-- Comments anchored to text (issue 14): threads hang on a range of a document, stored with the revision that range
-- is at; the hub moves it to head through the logged ops on load and writes it back at compaction and exit. The
-- log is never pruned at or above a thread's anchor_rev (see Store::prune_ops), so that move is always possible.
CREATE TABLE comment_threads (
    id           TEXT PRIMARY KEY,
    doc_id       TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    author_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    anchor_start INTEGER NOT NULL,
    anchor_end   INTEGER NOT NULL,
    anchor_rev   INTEGER NOT NULL,
    quote        TEXT NOT NULL,
    orphaned     INTEGER NOT NULL DEFAULT 0,
    resolved_at  INTEGER,
    resolved_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX comment_threads_doc ON comment_threads(doc_id, created_at);
CREATE TABLE comment_messages (
    id         TEXT PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES comment_threads(id) ON DELETE CASCADE,
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    author_id  TEXT REFERENCES users(id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    position   INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX comment_messages_thread ON comment_messages(thread_id, position);
CREATE INDEX comment_messages_doc ON comment_messages(doc_id);
