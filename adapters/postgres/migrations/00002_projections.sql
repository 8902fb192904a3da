-- +goose Up
-- Projector checkpoints: a projector writes its tables and this row in one
-- transaction. status is running, failed or stopped; error says why.
CREATE TABLE projection_checkpoints (
    name        text        PRIMARY KEY,
    commit_pos  bigint      NOT NULL DEFAULT 0,
    prepare_pos bigint      NOT NULL DEFAULT 0,
    generation  int         NOT NULL DEFAULT 1,
    status      text        NOT NULL DEFAULT 'running',
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- HTTP Idempotency-Key records: the same key with the same body replays the
-- first response; a different body is refused.
CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    status       int,
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE projection_checkpoints;
