-- Opaque user JSON as TEXT: user descriptions and activity settings, role statements and
-- rules, and account Resource Access Log settings move from JSONB to TEXT, as twin
-- descriptions already are (0003). JSONB normalises numbers (`1e18` reads back as
-- `1000000000000000000`, an integer to a JSON parser) and key order, and refuses `\u0000`
-- inside strings, so valid user input failed as a database error. No SQL looks inside these
-- columns; the store writes serialized JSON and reads it back as written.
--
-- Existing values keep their JSONB text form (`col::text`): whatever JSONB normalised before
-- this migration cannot be recovered. The checks cast to `json`, not `jsonb`: `json` input
-- validates the syntax and keeps the text, and accepts `\u0000`. Each table is rewritten
-- once, under an exclusive lock, by a single ALTER TABLE.

-- The object check is written for JSONB and would not type-check on TEXT; it comes back below
-- in its `json` form.
ALTER TABLE users DROP CONSTRAINT users_description_check;

ALTER TABLE users
    ALTER COLUMN description TYPE TEXT USING description::text,
    ALTER COLUMN activity    TYPE TEXT USING activity::text,
    ADD CONSTRAINT users_description_check CHECK (json_typeof(description::json) = 'object'),
    ADD CONSTRAINT users_activity_check    CHECK (activity IS NULL OR activity::json IS NOT NULL);

ALTER TABLE roles
    ALTER COLUMN statement TYPE TEXT USING statement::text,
    ALTER COLUMN rules     TYPE TEXT USING rules::text,
    ADD CONSTRAINT roles_statement_check CHECK (statement::json IS NOT NULL),
    ADD CONSTRAINT roles_rules_check     CHECK (rules::json IS NOT NULL);

ALTER TABLE accounts
    ALTER COLUMN resource_access_log TYPE TEXT USING resource_access_log::text,
    ADD CONSTRAINT accounts_resource_access_log_check
        CHECK (resource_access_log IS NULL OR resource_access_log::json IS NOT NULL);
