-- updated_at out of the owner index: every commit rewrites updated_at, and with it in an index no commit's update
-- of the documents row could be HOT (heap-only). Listing a person's documents by last edit sorts their rows instead.
-- (SQLite's 0005 also rebuilds its operation log WITHOUT ROWID; PostgreSQL's heap and primary key need nothing.)
DROP INDEX documents_owner;
CREATE INDEX documents_owner ON documents(owner_id);
