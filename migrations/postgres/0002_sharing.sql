-- Sharing: whether editors may share a document, and which share link gave a member their access
-- (revoking the link removes those members).
ALTER TABLE documents ADD COLUMN editors_can_share BIGINT NOT NULL DEFAULT 0;
ALTER TABLE document_members ADD COLUMN via_link TEXT;
CREATE INDEX share_links_doc ON share_links(doc_id);
