-- Images, stored once by the SHA-256 of their bytes (so every node serves them and backups hold them), and which
-- documents use each one: an image is served only through a document that links it, to people who may see that
-- document. `uploaded_by` on the link is what the per-person quota counts.
CREATE TABLE images (
    hash         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE document_images (
    doc_id      TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    hash        TEXT NOT NULL REFERENCES images(hash),
    uploaded_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (doc_id, hash)
);
CREATE INDEX document_images_hash ON document_images(hash);
CREATE INDEX document_images_uploader ON document_images(uploaded_by);
