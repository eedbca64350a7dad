-- Usage metering and the account log (Trusted Twin's GET /usage, GET /log, POST /trace).
--
-- usage_counters: one row per (account, user, hour, counter). Nodes meter in memory and add
-- their increments with additive upserts (value = value + excluded.value), so nodes sharing a
-- database add up. user_id is the nil uuid for usage no user caused (webhook deliveries).
-- bucket is the hour in UTC as 'YYYY-MM-DD-HH', which sorts in time order; housekeeping
-- deletes buckets older than 48 hours. No foreign keys: counters are written in batches off
-- the request path and only ever read by their own account.
CREATE TABLE usage_counters (
    account_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    bucket     TEXT    NOT NULL,
    counter    TEXT    NOT NULL,
    value      INTEGER NOT NULL CHECK (value >= 0),
    PRIMARY KEY (account_id, user_id, bucket, counter)
) STRICT, WITHOUT ROWID;

-- Serves pruning of old buckets.
CREATE INDEX usage_counters_by_bucket ON usage_counters (bucket);

-- account_log: the messages of asynchronous work for an account (dead-lettered webhook
-- messages, trace stages), each text starting with its ISO-8601 UTC time. seq numbers an
-- account's messages from 1; it comes from account_log_counters, updated in the appending
-- transaction, so seqs increase in commit order (SQLite's single writer orders commits) and
-- the GET /log cursor never skips a message. Messages are kept 7 days (housekeeping).
CREATE TABLE account_log (
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    ts         INTEGER NOT NULL,
    message    TEXT    NOT NULL,
    PRIMARY KEY (account_id, seq)
) STRICT, WITHOUT ROWID;

-- Serves pruning of old messages.
CREATE INDEX account_log_by_age ON account_log (ts);

-- The seq of the newest message ever appended to each account's log, kept apart from the
-- messages so it survives pruning. No row means 0.
CREATE TABLE account_log_counters (
    account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id),
    last_seq   INTEGER NOT NULL CHECK (last_seq >= 0)
) STRICT, WITHOUT ROWID;
