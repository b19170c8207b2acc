-- Version history: who contributed since the previous version (JSON list of user ids) and the content's length.
ALTER TABLE document_versions ADD COLUMN contributors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE document_versions ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
CREATE INDEX operations_created ON operations(doc_id, created_at);
