-- Ledger writes made under a client-chosen `transaction` id, remembered for 24 hours so that a
-- retried request returns its first answer instead of writing again. Stored in the same
-- transaction as the ledger write; the primary key makes a second write with the same id fail
-- (and roll back) however the two requests interleave. Keyed by account: ids are the client's
-- and scoped to its account. `response` is the JSON of the entries the write answered with,
-- kept as TEXT like every opaque JSON column (see 0005).

CREATE TABLE ledger_transactions (
    account_id     UUID   NOT NULL REFERENCES accounts (id),
    transaction_id TEXT   NOT NULL,
    twin_id        UUID   NOT NULL REFERENCES twins (id),
    request_hash   TEXT   NOT NULL,
    response       TEXT   NOT NULL CHECK (response::json IS NOT NULL),
    created_ts     BIGINT NOT NULL,
    PRIMARY KEY (account_id, transaction_id)
);

-- Serves pruning of remembered writes older than 24 hours.
CREATE INDEX ledger_transactions_by_age ON ledger_transactions (created_ts);
