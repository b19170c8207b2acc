-- PostgreSQL partitions its versions by document in this migration; SQLite has no partitions, and its
-- document_versions table stays as it is. (The file exists so both databases keep the same migration names.)
SELECT 1;
