-- Secret PINs: one-time codes with which their holder creates a user's next secret. Only a hash
-- of the PIN is stored; a PIN is deleted when it is redeemed, with its user, or by housekeeping
-- once expired. Timestamps are integer milliseconds since the Unix epoch.

CREATE TABLE secret_pins (
    account_id         TEXT    NOT NULL,
    pin_hash           TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    secret_validity_ts INTEGER,
    expires_ts         INTEGER NOT NULL,
    created_ts         INTEGER NOT NULL,
    -- Redemption looks a PIN up by account and hash; a hash names one PIN per account.
    PRIMARY KEY (account_id, pin_hash),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Serves the cascade (and the explicit delete) when a user is deleted.
CREATE INDEX secret_pins_by_user ON secret_pins (account_id, user_id);

-- Serves the housekeeping that deletes expired PINs.
CREATE INDEX secret_pins_by_expiry ON secret_pins (expires_ts);
