-- Per-account limits (issue 9, fair sharing between tenants): the operator's overrides of the
-- server's defaults for the request rate (token bucket) and the quotas on twins, ledger
-- entries and stored bytes. A NULL column takes the server's default; 0 is unlimited. An
-- account without overrides has no row. Kept in the database so every node applies the same
-- settings (each node caches them for a few seconds).

CREATE TABLE account_limits (
    account_id            TEXT    NOT NULL PRIMARY KEY,
    rate_limit_per_second INTEGER CHECK (rate_limit_per_second >= 0),
    rate_limit_burst      INTEGER CHECK (rate_limit_burst >= 0),
    max_twins             INTEGER CHECK (max_twins >= 0),
    max_ledger_entries    INTEGER CHECK (max_ledger_entries >= 0),
    max_stored_bytes      INTEGER CHECK (max_stored_bytes >= 0)
) STRICT;
