-- The event log: every change partners may watch (ledger entry changes, sticker changes),
-- written by the change's own transaction, and the named cursors of its readers (the webhook
-- fan-out of sticker events, one per deployment).
--
-- Unlike the twin-scoped tables, the log is one global sequence: ids are consecutive and
-- increase in commit order, so a reader that has seen id n has seen every event up to n and
-- resumes after it. In a distributed (Citus) deployment these tables stay on the coordinator
-- as plain local tables; they are not keyed by twin and must not be distributed.
--
-- Ids are assigned by the store, not by a sequence (sequences hand out values in call order,
-- not commit order, and leave gaps on rollback): each writing transaction, as its last
-- statement before COMMIT, adds its number of events to event_counter.last_id and numbers its
-- events up to the new value. The counter's row lock serialises only those commit tails, and a
-- transaction that writes no events never touches it. The body is opaque JSON kept as TEXT like
-- every user JSON column since 0004; timestamps are milliseconds since the Unix epoch.

CREATE TABLE events (
    id         BIGINT NOT NULL PRIMARY KEY CHECK (id > 0),
    ts         BIGINT NOT NULL,
    twin_id    UUID   NOT NULL,
    account_id UUID   NOT NULL,
    trigger    TEXT   NOT NULL,
    body       TEXT   NOT NULL CHECK (body::json IS NOT NULL)
);

-- Serves pruning of events older than their retention.
CREATE INDEX events_by_age ON events (ts);

-- The id of the newest event ever written, kept apart from the events so it survives pruning.
-- Exactly one row.
CREATE TABLE event_counter (
    only_row BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    last_id  BIGINT  NOT NULL CHECK (last_id >= 0)
);

INSERT INTO event_counter (only_row, last_id) VALUES (TRUE, 0);

-- How far each named reader of the log got: it has handled every event with id <= position.
-- No row means position 0. Moved by compare-and-set, so of several nodes racing to move one
-- cursor exactly one succeeds.
CREATE TABLE event_cursors (
    name     TEXT   NOT NULL PRIMARY KEY,
    position BIGINT NOT NULL CHECK (position >= 0)
);
