-- Twins: shared objects owned by one account. A twin is keyed by its own id alone (the key a
-- distributed deployment shards twin-scoped tables by), not by account: other accounts read
-- it when rules allow. Listing an owner's twins goes through twins_by_owner.
--
-- The description is opaque user JSON, stored as the text the store wrote (checked to be a
-- JSON object) so it reads back exactly; NULL means the twin has no description, which is not
-- the same as an empty object. A terminated twin records who terminated it and when; an alive
-- twin records neither. Timestamps are integer milliseconds since the Unix epoch.

CREATE TABLE twins (
    id            TEXT    NOT NULL PRIMARY KEY,
    owner         TEXT    NOT NULL REFERENCES accounts (id),
    creator       TEXT    NOT NULL REFERENCES accounts (id),
    status        TEXT    NOT NULL CHECK (status IN ('alive', 'terminated')),
    description   TEXT             CHECK (description IS NULL OR (json_valid(description) AND json_type(description) = 'object')),
    terminated_by TEXT             REFERENCES accounts (id),
    terminated_ts INTEGER,
    created_ts    INTEGER NOT NULL,
    updated_ts    INTEGER NOT NULL,
    CHECK ((terminated_by IS NULL) = (terminated_ts IS NULL)),
    CHECK ((status = 'terminated') = (terminated_ts IS NOT NULL))
) STRICT;

-- Serves list_owned_twins: one owner's twins in id order, paged by `id > after`.
CREATE INDEX twins_by_owner ON twins (owner, id);
