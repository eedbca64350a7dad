-- The access audit trail: one record per API operation, the leaves of a tamper-evident Merkle
-- log. Everything here is append-only: records are never updated or deleted, the sealer only
-- appends hashes and checkpoints, and the one-row tables only move forward.
--
-- `text` is the record's leaf: the exact canonical JSON the services hashed (or will hash),
-- stored and read back byte for byte, and the only column records are decoded from. The other
-- columns are copies of some of its fields, kept only to filter `GET /audit` listings; they are
-- never read back as data. Ids are TEXT like everywhere in this schema; timestamps are integer
-- milliseconds since the Unix epoch.
--
-- Seqs are assigned by the store, not by AUTOINCREMENT: each appending transaction adds its
-- number of records to audit_counter.next_seq and numbers its records from the old value, the
-- same scheme as on PostgreSQL (SQLite's single writer already orders the commits). So seqs are
-- consecutive from 0 and increase in commit order: once the sealer read record n, no record
-- before n can still appear. `seq` is the rowid, always given explicitly.

CREATE TABLE audit_records (
    seq              INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 0),
    ts               INTEGER NOT NULL,
    actor_account_id TEXT,
    owner_account_id TEXT,
    twin_id          TEXT,
    operation        TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    text             TEXT    NOT NULL
) STRICT;

-- Serve the two halves of a listing's visibility rule (the viewer owns the data, or the viewer
-- acted), each read newest first; the other filters are checked on the rows these yield.
CREATE INDEX audit_records_by_owner ON audit_records (owner_account_id, seq);
CREATE INDEX audit_records_by_actor ON audit_records (actor_account_id, seq);

-- How many records were ever appended, i.e. the seq the next record gets. Exactly one row.
CREATE TABLE audit_counter (
    only_row INTEGER NOT NULL PRIMARY KEY DEFAULT 1 CHECK (only_row = 1),
    next_seq INTEGER NOT NULL CHECK (next_seq >= 0)
) STRICT;

INSERT INTO audit_counter (only_row, next_seq) VALUES (1, 0);

-- The Merkle log's stored hashes (Go tlog numbering: every record's leaf hash and each complete
-- subtree's hash, in the order they become known). The sealer computes them from `text` and
-- appends them; the store neither hashes nor checks them. They are a cache of what the records
-- determine: tamper evidence comes from the signed checkpoints, since a changed record or hash
-- no longer yields a checkpoint's signed root.
CREATE TABLE audit_hashes (
    idx  INTEGER NOT NULL PRIMARY KEY CHECK (idx >= 0),
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- How many records the stored hashes cover (the sealed size). Exactly one row, moved forward by
-- compare-and-set under the write lock together with the hashes and checkpoint of the seal.
CREATE TABLE audit_tree (
    only_row INTEGER NOT NULL PRIMARY KEY DEFAULT 1 CHECK (only_row = 1),
    size     INTEGER NOT NULL CHECK (size >= 0)
) STRICT;

INSERT INTO audit_tree (only_row, size) VALUES (1, 0);

-- Signed checkpoints (C2SP signed notes), one per sealed size: what auditors and witnesses
-- verify the log against.
CREATE TABLE audit_checkpoints (
    size INTEGER NOT NULL PRIMARY KEY CHECK (size > 0),
    ts   INTEGER NOT NULL,
    note TEXT    NOT NULL
) STRICT;
