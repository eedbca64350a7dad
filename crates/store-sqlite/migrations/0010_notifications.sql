-- Notifications: webhook subscriptions to the topics of a (publishing) account, the topic
-- access an account grants to other accounts, the outbox of messages waiting to be POSTed, and
-- the dead letters of messages given up on.
--
-- Ids are lowercase hyphenated UUID text, timestamps integer milliseconds since the Unix epoch,
-- opaque text (topics, URLs, message bodies, reasons) TEXT kept exactly as written.

-- A subscription belongs to the user that made it: deleting that user deletes its
-- subscriptions (ON DELETE CASCADE), and with them their pending deliveries, since a message
-- for a user that no longer exists has nobody to answer for it. The token in the confirmation,
-- refresh and unsubscribe URLs is stored only as its SHA-256 hash, unique across all
-- subscriptions, so a URL names exactly one subscription. The server's half of the signing key
-- is present exactly when the client gave its half.
CREATE TABLE subscriptions (
    id                    TEXT    NOT NULL PRIMARY KEY,
    topic_account_id      TEXT    NOT NULL REFERENCES accounts (id),
    topic                 TEXT    NOT NULL,
    subscriber_account_id TEXT    NOT NULL,
    subscriber_user_id    TEXT    NOT NULL,
    callback_url          TEXT    NOT NULL,
    client_secret         TEXT,
    server_secret         TEXT,
    token_hash            TEXT    NOT NULL,
    expires_seconds       INTEGER NOT NULL CHECK (expires_seconds >= 0),
    validity_ts           INTEGER NOT NULL,
    confirmed             INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
    created_ts            INTEGER NOT NULL,
    updated_ts            INTEGER NOT NULL,
    CHECK ((client_secret IS NULL) = (server_secret IS NULL)),
    FOREIGN KEY (subscriber_account_id, subscriber_user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
) STRICT;

-- The confirmation, refresh and unsubscribe URLs find their subscription by token hash.
CREATE UNIQUE INDEX subscriptions_by_token_hash ON subscriptions (token_hash);

-- Serves publishing: the subscriptions to one topic of one account, in id order.
CREATE INDEX subscriptions_by_topic ON subscriptions (topic_account_id, topic, id);

-- Serves the cascade when a user is deleted.
CREATE INDEX subscriptions_by_subscriber ON subscriptions (subscriber_account_id, subscriber_user_id);

-- The topics `account_id` lets `grantee_account_id` subscribe to: one row per grant, the topics
-- a JSON array of distinct strings in sorted order (read and replaced whole, so a concurrent
-- replace is one upsert, never a mix of two lists). No row means no access; an empty list is
-- never stored.
CREATE TABLE notification_access (
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    grantee_account_id TEXT NOT NULL REFERENCES accounts (id),
    topics             TEXT NOT NULL CHECK (json_valid(topics) AND json_type(topics) = 'array'),
    PRIMARY KEY (account_id, grantee_account_id)
) STRICT, WITHOUT ROWID;

-- The outbox: one row per message per subscription until it is delivered (deleted), given up
-- (moved to dead_letters) or its subscription is deleted (ON DELETE CASCADE).
--
-- A subscription's messages go out one at a time in (created_ts, seq) order: seq is the rowid,
-- increasing with every insert (AUTOINCREMENT never reuses a value), and breaks ties between
-- messages queued in the same millisecond. The message uuid, stable across retries, is unique.
-- A dispatcher that claims a message sets lease_until; until then no other dispatcher may claim
-- it, after it (the dispatcher died) another may. NULL means not claimed.
CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message         TEXT    NOT NULL UNIQUE,
    subscription_id TEXT    NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    body            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_ts INTEGER NOT NULL,
    created_ts      INTEGER NOT NULL,
    lease_until     INTEGER
) STRICT;

-- Serves "is this the oldest message of its subscription", claiming in order, and the cascade
-- when a subscription is deleted.
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_ts, seq);

-- Serves claiming: the messages due first.
CREATE INDEX deliveries_by_due ON deliveries (next_attempt_ts);

-- Messages given up on, for the subscriber account to inspect. Kept after their subscription is
-- deleted, so subscription_id references nothing. seq orders dead letters given up in the same
-- millisecond, newest last.
CREATE TABLE dead_letters (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    message               TEXT    NOT NULL UNIQUE,
    subscription_id       TEXT    NOT NULL,
    subscriber_account_id TEXT    NOT NULL REFERENCES accounts (id),
    reason                TEXT    NOT NULL,
    dead_ts               INTEGER NOT NULL
) STRICT;

-- Serves listing an account's dead letters, newest first.
CREATE INDEX dead_letters_by_subscriber ON dead_letters (subscriber_account_id, dead_ts, seq);
