-- +goose Up
-- Staff IC cards (issue 11): a card's serial and ECDSA P-256 public key
-- registered to a staff account; a revoked card's logins fail.
CREATE TABLE station_staff_cards (
    card_serial text        PRIMARY KEY,
    staff_id    text        NOT NULL REFERENCES setup_staff_accounts (staff_id),
    public_key  bytea       NOT NULL,
    enrolled_at timestamptz NOT NULL,
    enrolled_by text        NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX station_staff_cards_staff ON station_staff_cards (staff_id) WHERE revoked_at IS NULL;

-- One-time challenges a staff card signs (login, enrolment; the JPKI
-- check's challenges are sealed, not stored). A challenge is consumed (used_at set) in the same transaction that
-- checks the signature, so it is single-use across every Gantry process.
CREATE TABLE station_challenges (
    challenge_id text        PRIMARY KEY,
    purpose      text        NOT NULL,
    subject      text        NOT NULL DEFAULT '',
    nonce        bytea       NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX station_challenges_expiry ON station_challenges (expires_at);

-- +goose Down
DROP TABLE station_challenges;
DROP TABLE station_staff_cards;
