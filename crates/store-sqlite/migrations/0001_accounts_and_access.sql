-- Accounts and access: tenants, their roles, users and user secrets, plus server-wide settings.
--
-- Every tenant table is keyed by account_id first, so one account's rows sit together and a
-- query can never reach another account's rows without naming that account. Ids are lowercase
-- hyphenated UUID text (they sort like the UUID bytes, as PostgreSQL's uuid does), timestamps
-- are integer milliseconds since the Unix epoch, JSON is stored as text checked by json_valid.

CREATE TABLE accounts (
    id                  TEXT    NOT NULL PRIMARY KEY,
    name                TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('active', 'suspended')),
    resource_access_log TEXT             CHECK (resource_access_log IS NULL OR json_valid(resource_access_log)),
    created_ts          INTEGER NOT NULL,
    updated_ts          INTEGER NOT NULL
) STRICT;

CREATE TABLE roles (
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    statement  TEXT    NOT NULL CHECK (json_valid(statement)),
    rules      TEXT    NOT NULL CHECK (json_valid(rules)),
    created_ts INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    id          TEXT    NOT NULL,
    role_id     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL CHECK (json_valid(description)),
    activity    TEXT             CHECK (activity IS NULL OR json_valid(activity)),
    created_ts  INTEGER NOT NULL,
    updated_ts  INTEGER NOT NULL,
    PRIMARY KEY (account_id, id),
    -- A user's role must be a role of the same account.
    FOREIGN KEY (account_id, role_id) REFERENCES roles (account_id, id)
) STRICT, WITHOUT ROWID;

-- Serves the "is this role still held" check and the foreign key check when a role is deleted.
CREATE INDEX users_by_role ON users (account_id, role_id);

CREATE TABLE secrets (
    account_id  TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    validity_ts INTEGER,
    created_ts  INTEGER NOT NULL,
    updated_ts  INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Authentication looks secrets up by hash alone; a hash identifies exactly one secret.
CREATE UNIQUE INDEX secrets_by_hash ON secrets (hash);

CREATE TABLE server_settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
