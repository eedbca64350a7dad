-- The event log: every change partners may watch (ledger entry changes, sticker changes),
-- written by the change's own transaction, and the named cursors of its readers (the webhook
-- fan-out of sticker events).
--
-- Unlike the twin-scoped tables, the log is one global sequence: ids are consecutive and
-- increase in commit order, so a reader that has seen id n has seen every event up to n and
-- resumes after it. (PostgreSQL deployments keep it as one global table too, not distributed.)
--
-- Ids are assigned by the store, not by AUTOINCREMENT: each writing transaction adds its number
-- of events to event_counter.last_id and numbers its events up to the new value, the same
-- scheme as on PostgreSQL (SQLite's single writer already orders the commits). A transaction
-- that writes no events never touches the counter. `id` is the rowid, always given explicitly.
-- The body is opaque JSON kept as the text the store wrote; timestamps are integer
-- milliseconds since the Unix epoch.

CREATE TABLE events (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id > 0),
    ts         INTEGER NOT NULL,
    twin_id    TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    trigger    TEXT    NOT NULL,
    body       TEXT    NOT NULL CHECK (json_valid(body))
) STRICT;

-- Serves pruning of events older than their retention.
CREATE INDEX events_by_age ON events (ts);

-- The id of the newest event ever written, kept apart from the events so it survives pruning.
-- Exactly one row.
CREATE TABLE event_counter (
    only_row INTEGER NOT NULL PRIMARY KEY DEFAULT 1 CHECK (only_row = 1),
    last_id  INTEGER NOT NULL CHECK (last_id >= 0)
) STRICT;

INSERT INTO event_counter (only_row, last_id) VALUES (1, 0);

-- How far each named reader of the log got: it has handled every event with id <= position.
-- No row means position 0. Moved by compare-and-set under the write lock.
CREATE TABLE event_cursors (
    name     TEXT    NOT NULL PRIMARY KEY,
    position INTEGER NOT NULL CHECK (position >= 0)
) STRICT, WITHOUT ROWID;
