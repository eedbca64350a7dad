-- Twins: shared objects owned by one account. A twin is keyed by its own id alone, the
-- distribution key of twin-scoped tables in a distributed deployment, not by account: other
-- accounts read it when rules allow. Listing an owner's twins goes through twins_by_owner.
--
-- The description is opaque user JSON. It is TEXT (checked to be a JSON object), not JSONB:
-- JSONB normalises numbers (`1e18` reads back as `1000000000000000000`, an integer to a JSON
-- parser) and key order, and descriptions must read back exactly as written; no SQL looks
-- inside them. NULL means the twin has no description, which is not the same as `{}`. A
-- terminated twin records who terminated it and when; an alive twin records neither.
-- Timestamps are milliseconds since the Unix epoch.

CREATE TABLE twins (
    id            UUID   NOT NULL PRIMARY KEY,
    owner         UUID   NOT NULL REFERENCES accounts (id),
    creator       UUID   NOT NULL REFERENCES accounts (id),
    status        TEXT   NOT NULL CHECK (status IN ('alive', 'terminated')),
    description   TEXT            CHECK (description IS NULL OR json_typeof(description::json) = 'object'),
    terminated_by UUID            REFERENCES accounts (id),
    terminated_ts BIGINT,
    created_ts    BIGINT NOT NULL,
    updated_ts    BIGINT NOT NULL,
    CHECK ((terminated_by IS NULL) = (terminated_ts IS NULL)),
    CHECK ((status = 'terminated') = (terminated_ts IS NOT NULL))
);

-- Serves list_owned_twins: one owner's twins in id order, paged by `id > after`.
CREATE INDEX twins_by_owner ON twins (owner, id);
