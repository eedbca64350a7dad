-- Stickers: workflow tags an account puts on a twin for chosen recipients. At most one sticker
-- per (twin, account, colour), so the key is exactly that, twin_id first, the distribution key
-- of twin-scoped tables in a distributed deployment. Re-putting a colour replaces the row.
--
-- The recipients (ids of users, roles or accounts, of any account, never checked to exist) are
-- kept twice, written in one transaction: as a JSON array in the sticker row, which is what
-- reads return, and one row each in sticker_recipients, the index that listing by recipient
-- goes through, so "the stickers addressed to me" never scans all stickers. The index rows go
-- with their sticker (ON DELETE CASCADE).
--
-- `publish` is opaque user JSON and, like the columns of 0003 to 0005, TEXT rather than JSONB
-- so it reads back exactly; NULL when the sticker has no notification configuration.
-- Timestamps are milliseconds since the Unix epoch; a sticker is shown only while
-- `validity_ts` is in the future, and the expiry worker deletes it once it has passed
-- (through stickers_by_validity, claiming rows with FOR UPDATE SKIP LOCKED).

CREATE TABLE stickers (
    twin_id     UUID   NOT NULL REFERENCES twins (id),
    account_id  UUID   NOT NULL REFERENCES accounts (id),
    color       TEXT   NOT NULL,
    note        TEXT   NOT NULL,
    recipients  TEXT   NOT NULL CHECK (json_typeof(recipients::json) = 'array'),
    publish     TEXT            CHECK (publish IS NULL OR json_typeof(publish::json) IS NOT NULL),
    validity_ts BIGINT NOT NULL,
    created_ts  BIGINT NOT NULL,
    PRIMARY KEY (twin_id, account_id, color)
);

-- Serves the expiry worker: the oldest validities first, without a scan.
CREATE INDEX stickers_by_validity ON stickers (validity_ts);

CREATE TABLE sticker_recipients (
    twin_id    UUID NOT NULL,
    account_id UUID NOT NULL,
    color      TEXT NOT NULL,
    recipient  UUID NOT NULL,
    PRIMARY KEY (twin_id, account_id, color, recipient),
    FOREIGN KEY (twin_id, account_id, color)
        REFERENCES stickers (twin_id, account_id, color) ON DELETE CASCADE
);

-- Serves listing by recipient (`GET /stickers`, `GET /twins/{twin}/stickers`).
CREATE INDEX sticker_recipients_by_recipient
    ON sticker_recipients (recipient, twin_id, account_id, color);
