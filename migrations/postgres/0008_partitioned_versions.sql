-- Versions (snapshots), like the operation log, are hash-partitioned by document: a document's versions live
-- together, and its history list, loading and thinning read one partition. The key becomes (doc_id, id), as a
-- partitioned table's keys must hold the partition column; version ids stay unique (128 random bits).
-- The rows move from the old table to the new one in this migration's transaction.
ALTER TABLE document_versions RENAME TO document_versions_unpartitioned;
ALTER INDEX document_versions_doc RENAME TO document_versions_unpartitioned_doc;
CREATE TABLE document_versions (
    id           TEXT NOT NULL,
    doc_id       TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    rev          BIGINT NOT NULL,
    content      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    contributors TEXT NOT NULL DEFAULT '[]',
    size         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (doc_id, id)
) PARTITION BY HASH (doc_id);
CREATE TABLE document_versions_p0 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE document_versions_p1 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE document_versions_p2 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE document_versions_p3 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE document_versions_p4 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE document_versions_p5 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE document_versions_p6 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE document_versions_p7 PARTITION OF document_versions FOR VALUES WITH (MODULUS 8, REMAINDER 7);
CREATE INDEX document_versions_doc ON document_versions(doc_id, rev);
INSERT INTO document_versions (id, doc_id, rev, content, kind, name, created_by, created_at, contributors, size)
    SELECT id, doc_id, rev, content, kind, name, created_by, created_at, contributors, size
    FROM document_versions_unpartitioned;
DROP TABLE document_versions_unpartitioned;
