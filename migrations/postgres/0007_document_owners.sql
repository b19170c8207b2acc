-- Fencing for the cluster (docs/cluster.md): the node that owns each open document, the cluster membership
-- version at which it claimed it, and that node's registration epoch. A claim only succeeds from a membership
-- version at least as new as the stored one, and every commit of a cluster node checks, in its own transaction,
-- that the row still names it, so a paused or partitioned old owner cannot write after a new owner took over.
-- NULL everywhere on a single node, which never claims.
ALTER TABLE documents ADD COLUMN owner_node TEXT;
ALTER TABLE documents ADD COLUMN owner_view BIGINT;
ALTER TABLE documents ADD COLUMN owner_epoch BIGINT;
