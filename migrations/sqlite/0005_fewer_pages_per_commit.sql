-- Each commit of ops wrote four B-tree pages besides the rows' own data; these two changes make it two.

-- 1. The operation log WITHOUT ROWID: the (doc_id, rev) key is the table itself, so an op is one B-tree insert
--    instead of two (the rowid table and the primary key's automatic index). Ops are small rows, the case
--    WITHOUT ROWID is made for; a large paste still spills to overflow pages as before.
CREATE TABLE operations_by_key (
    doc_id     TEXT NOT NULL,
    rev        INTEGER NOT NULL,
    client     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    author_id  TEXT,
    op         TEXT NOT NULL,
    len_after  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (doc_id, rev)
) WITHOUT ROWID;
INSERT INTO operations_by_key (doc_id, rev, client, seq, author_id, op, len_after, created_at)
    SELECT doc_id, rev, client, seq, author_id, op, len_after, created_at FROM operations;
DROP TABLE operations;
ALTER TABLE operations_by_key RENAME TO operations;

-- 2. updated_at out of the owner index: every commit rewrites updated_at, and with it in the index every commit
--    also moved an index entry. Listing a person's documents by last edit sorts their rows instead.
DROP INDEX documents_owner;
CREATE INDEX documents_owner ON documents(owner_id);
