-- Authorship (issue 14): who wrote each character of a document, as the hub's run-length map at revision `rev`:
-- `spans` is JSON [[len, user id or null], ...] in UTF-16 units. The hub writes it at each compaction and on exit,
-- before the log is pruned, and on load replays the logged ops after `rev` with their authors; the log is never
-- pruned at or above `rev` (see Store::prune_ops). No row: the text of the current version has no known author.
CREATE TABLE document_authorship (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    rev    BIGINT NOT NULL,
    spans  TEXT NOT NULL
);
