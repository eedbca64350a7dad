-- Ledgers: one per (twin, account), holding the entries that account wrote on the twin. Keyed
-- by twin_id first, the distribution key of twin-scoped tables in a distributed deployment;
-- "the ledgers of an account" goes through ledgers_by_account.
--
-- The entries are the ledger's whole entry map, serialized by the store as one JSON object (a
-- ledger is read and written whole, under optimistic concurrency on `version`). They are
-- opaque user JSON and, like the columns of 0003 and 0004, TEXT rather than JSONB: JSONB
-- normalises numbers and key order and refuses `\u0000` inside strings. The check casts to
-- `json`, which validates the syntax, keeps the text and accepts `\u0000`. Timestamps are
-- milliseconds since the Unix epoch; timestamps inside the entries are Trusted Twin seconds
-- with three decimals.

CREATE TABLE ledgers (
    twin_id    UUID   NOT NULL REFERENCES twins (id),
    account_id UUID   NOT NULL REFERENCES accounts (id),
    entries    TEXT   NOT NULL CHECK (json_typeof(entries::json) = 'object'),
    version    BIGINT NOT NULL CHECK (version >= 0),
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (twin_id, account_id)
);

-- Serves the ledgers of one account across twins.
CREATE INDEX ledgers_by_account ON ledgers (account_id, twin_id);
