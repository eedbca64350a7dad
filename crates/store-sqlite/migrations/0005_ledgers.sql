-- Ledgers: one per (twin, account), holding the entries that account wrote on the twin. Keyed
-- by twin_id first, the key a distributed deployment shards twin-scoped tables by; "the ledgers
-- of an account" goes through ledgers_by_account.
--
-- The entries are the ledger's whole entry map, serialized by the store as one JSON object (a
-- ledger is read and written whole, under optimistic concurrency on `version`). They are
-- opaque user JSON stored as the text the store wrote, so values read back exactly; json_valid
-- accepts `\u0000` inside strings. Timestamps are integer milliseconds since the Unix epoch;
-- timestamps inside the entries are Trusted Twin seconds with three decimals.
--
-- A plain rowid table, not WITHOUT ROWID: a busy ledger's entries can be large, and SQLite
-- recommends WITHOUT ROWID only for small rows.

CREATE TABLE ledgers (
    twin_id    TEXT    NOT NULL REFERENCES twins (id),
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    entries    TEXT    NOT NULL CHECK (json_valid(entries) AND json_type(entries) = 'object'),
    version    INTEGER NOT NULL CHECK (version >= 0),
    created_ts INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL,
    PRIMARY KEY (twin_id, account_id)
) STRICT;

-- Serves the ledgers of one account across twins.
CREATE INDEX ledgers_by_account ON ledgers (account_id, twin_id);
