-- Every op paid an insert into this index, and nothing needs it: pruning by age deletes a prefix of revisions
-- (`rev < $2 AND created_at < $3`), which the (doc_id, rev) primary key already ranges over.
DROP INDEX operations_created;
