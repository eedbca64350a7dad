-- Housekeeping of notifications: subscriptions that expired (an hour ago, so the dispatcher
-- has dead-lettered whatever they still had queued) and dead letters older than their
-- retention are deleted in batches; these indexes serve those range deletes.

CREATE INDEX subscriptions_by_validity ON subscriptions (validity_ts);

CREATE INDEX dead_letters_by_age ON dead_letters (dead_ts);
