-- Secret PINs: one-time codes with which their holder creates a user's next secret. Only a hash
-- of the PIN is stored; a PIN is deleted when it is redeemed, with its user, or by housekeeping
-- once expired. Timestamps are milliseconds since the Unix epoch.

CREATE TABLE secret_pins (
    account_id         UUID   NOT NULL,
    pin_hash           TEXT   NOT NULL,
    user_id            UUID   NOT NULL,
    secret_validity_ts BIGINT,
    expires_ts         BIGINT NOT NULL,
    created_ts         BIGINT NOT NULL,
    -- Redemption looks a PIN up by account and hash; a hash names one PIN per account.
    PRIMARY KEY (account_id, pin_hash),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

-- Serves the cascade when a user is deleted.
CREATE INDEX secret_pins_by_user ON secret_pins (account_id, user_id);

-- Serves the housekeeping that deletes expired PINs.
CREATE INDEX secret_pins_by_expiry ON secret_pins (expires_ts);
