-- +goose Up
-- Progress of long work started over HTTP (a billing run, a usage-file
-- upload), written by the process that runs it and read by every process
-- on this database, so that a page served by another replica, or after a
-- restart, shows it (adapters/postgres.RunLog, projections/runs.Reader).
-- Telemetry, not a decision: written outside the work's transactions. A
-- run's final row (ended_at, result) is written after the work's events
-- committed, from what they recorded. subject is the staff account that
-- started it: only they may watch it. Rows are purged after 7 days.
CREATE TABLE run_progress (
    id         text        PRIMARY KEY,
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    done       bigint      NOT NULL DEFAULT 0,
    total      bigint      NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    result     jsonb,
    failure    text        NOT NULL DEFAULT ''
);
CREATE INDEX run_progress_updated ON run_progress (updated_at);

-- +goose Down
DROP TABLE run_progress;
