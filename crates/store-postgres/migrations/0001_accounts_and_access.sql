-- Accounts and access: tenants, their roles, users and user secrets, plus server-wide settings.
--
-- Every tenant table is keyed by account_id first, so one account's rows sit together, a query
-- can never reach another account's rows without naming that account, and the tables can later
-- be distributed by account. Timestamps are milliseconds since the Unix epoch.

CREATE TABLE accounts (
    id                  UUID   NOT NULL PRIMARY KEY,
    name                TEXT   NOT NULL,
    status              TEXT   NOT NULL CHECK (status IN ('active', 'suspended')),
    resource_access_log JSONB,
    created_ts          BIGINT NOT NULL,
    updated_ts          BIGINT NOT NULL
);

CREATE TABLE roles (
    account_id UUID   NOT NULL REFERENCES accounts (id),
    id         UUID   NOT NULL,
    name       TEXT   NOT NULL,
    statement  JSONB  NOT NULL,
    rules      JSONB  NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE users (
    account_id  UUID   NOT NULL REFERENCES accounts (id),
    id          UUID   NOT NULL,
    role_id     UUID   NOT NULL,
    name        TEXT   NOT NULL,
    description JSONB  NOT NULL CHECK (jsonb_typeof(description) = 'object'),
    activity    JSONB,
    created_ts  BIGINT NOT NULL,
    updated_ts  BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    -- A user's role must be a role of the same account.
    CONSTRAINT users_role_fkey FOREIGN KEY (account_id, role_id) REFERENCES roles (account_id, id)
);

-- Serves the "is this role still held" check and the foreign key check when a role is deleted.
CREATE INDEX users_by_role ON users (account_id, role_id);

CREATE TABLE secrets (
    account_id  UUID   NOT NULL,
    user_id     UUID   NOT NULL,
    hash        TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    validity_ts BIGINT,
    created_ts  BIGINT NOT NULL,
    updated_ts  BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

-- Authentication looks secrets up by hash alone; a hash identifies exactly one secret.
CREATE UNIQUE INDEX secrets_by_hash ON secrets (hash);

CREATE TABLE server_settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
