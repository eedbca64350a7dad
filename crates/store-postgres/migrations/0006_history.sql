-- Entry history: one row per recorded value change of an entry with a `history` retention.
-- Written in the same transaction as the ledger it belongs to, so a record exists exactly when
-- its value change was stored.
--
-- `seq` is the ledger version of the write that recorded the value: unique per ledger, it keeps
-- two changes within one millisecond apart and orders records with equal `ts`. `expires_ts`
-- is computed by the store's caller from the entry's retention (calendar months and years), so
-- pruning is one indexed range delete; NULL means kept until the entry or its history goes.
-- Values are opaque user JSON kept as TEXT (see 0005 for why not JSONB).

CREATE TABLE entry_history (
    twin_id    UUID   NOT NULL,
    account_id UUID   NOT NULL,
    entry      TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    ts         BIGINT NOT NULL,
    value      TEXT   NOT NULL CHECK (value::json IS NOT NULL),
    expires_ts BIGINT,
    PRIMARY KEY (twin_id, account_id, entry, seq),
    FOREIGN KEY (twin_id, account_id) REFERENCES ledgers (twin_id, account_id)
);

-- Serves reads newest first with ge/le bounds.
CREATE INDEX entry_history_by_ts ON entry_history (twin_id, account_id, entry, ts);

-- Serves pruning of expired records.
CREATE INDEX entry_history_expiry ON entry_history (expires_ts) WHERE expires_ts IS NOT NULL;
