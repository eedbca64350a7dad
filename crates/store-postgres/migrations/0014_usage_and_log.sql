-- Usage metering and the account log (Trusted Twin's GET /usage, GET /log, POST /trace).
--
-- usage_counters: one row per (account, user, hour, counter). Nodes meter in memory and add
-- their increments with additive upserts (value = value + EXCLUDED.value), so nodes sharing
-- the database add up; a flush upserts its rows in key order, so two flushes never deadlock.
-- user_id is the nil uuid for usage no user caused (webhook deliveries). bucket is the hour in
-- UTC as 'YYYY-MM-DD-HH', which sorts in time order; housekeeping deletes buckets older than
-- 48 hours. Keyed by account first, like the other tenant tables; no foreign keys: counters
-- are written in batches off the request path and only ever read by their own account.
CREATE TABLE usage_counters (
    account_id UUID   NOT NULL,
    user_id    UUID   NOT NULL,
    bucket     TEXT   NOT NULL,
    counter    TEXT   NOT NULL,
    value      BIGINT NOT NULL CHECK (value >= 0),
    PRIMARY KEY (account_id, user_id, bucket, counter)
);

-- Serves pruning of old buckets.
CREATE INDEX usage_counters_by_bucket ON usage_counters (bucket);

-- account_log: the messages of asynchronous work for an account (dead-lettered webhook
-- messages, trace stages), each text starting with its ISO-8601 UTC time. seq numbers an
-- account's messages from 1; it comes from account_log_counters, whose row is locked by the
-- appending transaction until it commits, so an account's seqs increase in commit order and
-- the GET /log cursor never skips a message that commits later with a lower number (only
-- appends to the same account's log wait for each other). Messages are kept 7 days.
CREATE TABLE account_log (
    account_id UUID   NOT NULL REFERENCES accounts (id),
    seq        BIGINT NOT NULL CHECK (seq > 0),
    ts         BIGINT NOT NULL,
    message    TEXT   NOT NULL,
    PRIMARY KEY (account_id, seq)
);

-- Serves pruning of old messages.
CREATE INDEX account_log_by_age ON account_log (ts);

-- The seq of the newest message ever appended to each account's log, kept apart from the
-- messages so it survives pruning. No row means 0.
CREATE TABLE account_log_counters (
    account_id UUID   NOT NULL PRIMARY KEY REFERENCES accounts (id),
    last_seq   BIGINT NOT NULL CHECK (last_seq >= 0)
);
