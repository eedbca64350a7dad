-- Identities: aliases of twins (`RFID#4411`), one row per (twin, account, identity string). An
-- account may attach many identities to one twin, the same string to several twins, and several
-- accounts may attach the same string; each row belongs to the account that attached it. Keyed
-- by twin_id first, the key a distributed deployment shards twin-scoped tables by.
--
-- Resolution (`GET /resolve/{identity}`) goes the other way, from the string to the twins, and
-- must never scan the table: identities_by_identity serves it for one account, a list of
-- accounts or every account, already in (account, twin) order.
--
-- The identity is compared byte for byte (BINARY collation, SQLite's default), so `RFID#a` and
-- `rfid#A` are different identities. The visibility rule is opaque user text; NULL means private
-- to the owning account. validity_ts NULL means the identity never expires. Timestamps are
-- integer milliseconds since the Unix epoch. WITHOUT ROWID: rows are small and always reached
-- through the key or the index.

CREATE TABLE identities (
    twin_id     TEXT    NOT NULL REFERENCES twins (id),
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    identity    TEXT    NOT NULL,
    validity_ts INTEGER,
    visibility  TEXT,
    created_ts  INTEGER NOT NULL,
    updated_ts  INTEGER NOT NULL,
    PRIMARY KEY (twin_id, account_id, identity)
) STRICT, WITHOUT ROWID;

-- Serves find_identities: one identity string, optionally narrowed to accounts, in
-- (account, twin) order.
CREATE INDEX identities_by_identity ON identities (identity, account_id, twin_id);
