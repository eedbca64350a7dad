-- Identities: aliases of twins (`RFID#4411`), one row per (twin, account, identity string). An
-- account may attach many identities to one twin, the same string to several twins, and several
-- accounts may attach the same string; each row belongs to the account that attached it. Keyed
-- by twin_id first, the distribution key of twin-scoped tables in a distributed deployment.
--
-- Resolution (`GET /resolve/{identity}`) goes the other way, from the string to the twins, and
-- must never scan the table: identities_by_identity serves it for one account, a list of
-- accounts or every account, already in (account, twin) order.
--
-- The identity column uses the "C" collation: equality and order are byte for byte, as on
-- SQLite, whatever the database's default collation, so both backends list identities in the
-- same order. The visibility rule is opaque user text (TEXT, like the rules of 0004); NULL means
-- private to the owning account. validity_ts NULL means the identity never expires. Timestamps
-- are milliseconds since the Unix epoch.

CREATE TABLE identities (
    twin_id     UUID   NOT NULL REFERENCES twins (id),
    account_id  UUID   NOT NULL REFERENCES accounts (id),
    identity    TEXT   COLLATE "C" NOT NULL,
    validity_ts BIGINT,
    visibility  TEXT,
    created_ts  BIGINT NOT NULL,
    updated_ts  BIGINT NOT NULL,
    PRIMARY KEY (twin_id, account_id, identity)
);

-- Serves find_identities: one identity string, optionally narrowed to accounts, in
-- (account, twin) order.
CREATE INDEX identities_by_identity ON identities (identity, account_id, twin_id);
