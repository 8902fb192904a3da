-- +goose Up
-- Cards and billing (issue 4): command-side tables that are not projections.

-- card_serial allocates card-number serials; nextval is atomic, so
-- concurrent issues never share a number (gaps after failures are fine).
CREATE SEQUENCE card_serial START 1;

-- lease_registry is the local copy of the lease contract system
-- (gantry lease import FILE.csv).
CREATE TABLE lease_registry (
    contract      text PRIMARY KEY,
    customer_name text NOT NULL,
    start_date    date NOT NULL,
    end_date      date NOT NULL,
    vehicles      text[] NOT NULL DEFAULT '{}',
    imported_at   timestamptz NOT NULL DEFAULT now()
);

-- card_registry is every card ever issued with its state, kept by the card
-- commands. The unique partial index is what makes "one card in use per
-- vehicle" hold under concurrent issues.
CREATE TABLE card_registry (
    card        text PRIMARY KEY,
    contract    text NOT NULL,
    vehicle_key text NOT NULL,
    state       text NOT NULL
);
CREATE UNIQUE INDEX card_registry_one_in_use ON card_registry (vehicle_key) WHERE state = 'in_use';

-- usage_records are the road operators' passages (通行記録), identity
-- (operator, record_id): re-imports change nothing.
CREATE TABLE usage_records (
    operator    text NOT NULL,
    record_id   text NOT NULL,
    card        text NOT NULL,
    vehicle     text NOT NULL,
    entry_ic    text NOT NULL,
    entry_at    timestamptz NOT NULL,
    exit_ic     text NOT NULL,
    exit_at     timestamptz NOT NULL,
    toll        bigint NOT NULL,
    usage_date  date NOT NULL,
    file_sha256 text NOT NULL,
    PRIMARY KEY (operator, record_id)
);
CREATE INDEX usage_records_card_date ON usage_records (card, usage_date);

-- printer_edi is what the printer EDI sink has written: one row per card
-- (dedupe on re-delivery); the day's batch file is rendered from it.
CREATE TABLE printer_edi (
    card     text PRIMARY KEY,
    day      date NOT NULL,
    line     text NOT NULL,
    event_id uuid NOT NULL
);

-- mail_sent de-duplicates renewal notice mails per event and handler.
CREATE TABLE mail_sent (
    event_id uuid NOT NULL,
    handler  text NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, handler)
);

-- +goose Down
DROP TABLE mail_sent;
DROP TABLE printer_edi;
DROP TABLE usage_records;
DROP TABLE card_registry;
DROP TABLE lease_registry;
DROP SEQUENCE card_serial;
