-- Opaque user JSON as TEXT: on PostgreSQL this migration moves user descriptions and activity
-- settings, role statements and rules, and account Resource Access Log settings from JSONB to
-- TEXT, so they read back exactly as written. Here they have been TEXT checked by json_valid
-- since 0001, so there is nothing to change; the migration exists because both backends ship
-- the same migrations under the same names.

SELECT 1;
