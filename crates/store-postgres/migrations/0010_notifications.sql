-- Notifications: webhook subscriptions to the topics of a (publishing) account, the topic
-- access an account grants to other accounts, the outbox of messages waiting to be POSTed, and
-- the dead letters of messages given up on.
--
-- Timestamps are milliseconds since the Unix epoch; opaque text (topics, URLs, message bodies,
-- reasons) is TEXT kept exactly as written, the message bodies too (TEXT rather than JSONB,
-- like every opaque JSON column since 0004: the bytes POSTed are the bytes signed).

-- A subscription belongs to the user that made it: deleting that user deletes its
-- subscriptions (ON DELETE CASCADE), and with them their pending deliveries, since a message
-- for a user that no longer exists has nobody to answer for it. The token in the confirmation,
-- refresh and unsubscribe URLs is stored only as its SHA-256 hash, unique across all
-- subscriptions, so a URL names exactly one subscription. The server's half of the signing key
-- is present exactly when the client gave its half. The foreign keys are named: the store tells
-- a missing publisher from a missing subscriber by the constraint.
CREATE TABLE subscriptions (
    id                    UUID    NOT NULL PRIMARY KEY,
    topic_account_id      UUID    NOT NULL,
    topic                 TEXT    NOT NULL,
    subscriber_account_id UUID    NOT NULL,
    subscriber_user_id    UUID    NOT NULL,
    callback_url          TEXT    NOT NULL,
    client_secret         TEXT,
    server_secret         TEXT,
    token_hash            TEXT    NOT NULL,
    expires_seconds       BIGINT  NOT NULL CHECK (expires_seconds >= 0),
    validity_ts           BIGINT  NOT NULL,
    confirmed             BOOLEAN NOT NULL,
    created_ts            BIGINT  NOT NULL,
    updated_ts            BIGINT  NOT NULL,
    CHECK ((client_secret IS NULL) = (server_secret IS NULL)),
    CONSTRAINT subscriptions_topic_account_fkey FOREIGN KEY (topic_account_id)
        REFERENCES accounts (id),
    CONSTRAINT subscriptions_subscriber_user_fkey FOREIGN KEY (subscriber_account_id, subscriber_user_id)
        REFERENCES users (account_id, id) ON DELETE CASCADE
);

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
    account_id         UUID NOT NULL,
    grantee_account_id UUID NOT NULL,
    topics             TEXT NOT NULL CHECK (json_typeof(topics::json) = 'array'),
    PRIMARY KEY (account_id, grantee_account_id),
    CONSTRAINT notification_access_account_fkey FOREIGN KEY (account_id)
        REFERENCES accounts (id),
    CONSTRAINT notification_access_grantee_fkey FOREIGN KEY (grantee_account_id)
        REFERENCES accounts (id)
);

-- The outbox: one row per message per subscription until it is delivered (deleted), given up
-- (moved to dead_letters) or its subscription is deleted (ON DELETE CASCADE).
--
-- A subscription's messages go out one at a time in (created_ts, seq) order: seq comes from an
-- identity sequence and breaks ties between messages queued in the same millisecond (two
-- transactions queueing at once may commit in the other order; their messages were concurrent,
-- so either order is right). A dispatcher that claims a message (FOR UPDATE SKIP LOCKED) sets
-- lease_until; until then no other dispatcher may claim it, after it (the dispatcher died)
-- another may. NULL means not claimed.
CREATE TABLE deliveries (
    message         UUID   NOT NULL PRIMARY KEY,
    seq             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    subscription_id UUID   NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    body            TEXT   NOT NULL,
    attempts        BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_ts BIGINT NOT NULL,
    created_ts      BIGINT NOT NULL,
    lease_until     BIGINT
);

-- Serves "is this the oldest message of its subscription", claiming in order, and the cascade
-- when a subscription is deleted.
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_ts, seq);

-- Serves claiming: the messages due first.
CREATE INDEX deliveries_by_due ON deliveries (next_attempt_ts);

-- Messages given up on, for the subscriber account to inspect. Kept after their subscription is
-- deleted, so subscription_id references nothing. seq orders dead letters given up in the same
-- millisecond, newest last.
CREATE TABLE dead_letters (
    message               UUID   NOT NULL PRIMARY KEY,
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    subscription_id       UUID   NOT NULL,
    subscriber_account_id UUID   NOT NULL REFERENCES accounts (id),
    reason                TEXT   NOT NULL,
    dead_ts               BIGINT NOT NULL
);

-- Serves listing an account's dead letters, newest first.
CREATE INDEX dead_letters_by_subscriber ON dead_letters (subscriber_account_id, dead_ts, seq);
