-- +goose Up
-- Idempotency-Keys are event-store command IDs now (appended_commands,
-- written by gantry_append in the same transaction as the events); the side
-- table of stored responses, with plaintext passcodes and PDFs, goes.
DROP TABLE IF EXISTS idempotency_keys;

-- +goose Down
CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    status       int,
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
