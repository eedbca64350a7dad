-- Audit retention per account (issue 7): how many days the audit records of an account are
-- kept, overriding the server's `audit_retention_days`; 0 keeps them forever. A record is
-- deleted only once it is older than the retention of its owner's and of its actor's account,
-- and only once a signed checkpoint covers it; its stored hashes stay, and the pruning appends
-- a record listing the deleted seqs, so the Merkle log keeps verifying.

CREATE TABLE audit_retention (
    account_id UUID    NOT NULL PRIMARY KEY,
    days       INTEGER NOT NULL CHECK (days >= 0)
);
