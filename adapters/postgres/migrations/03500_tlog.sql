-- +goose Up
-- The transparency log (adapters/tlog, docs/transparency-log.md). The
-- sequencer (projector "tlog") appends one entry per event in global order and
-- the tree's stored hashes (x/mod/sumdb/tlog storage order) in the same
-- transaction as its checkpoint. Signed checkpoints are kept here and, for
-- witnessing, outside the database. The signing key is never stored here.
CREATE TABLE tlog_entries (
    idx       bigint PRIMARY KEY CHECK (idx >= 0),
    stream_id text   NOT NULL,
    version   bigint NOT NULL,
    entry     bytea  NOT NULL
);
-- No index on (stream_id, version): exports walk entries in index order and
-- find each event by the events primary key; fewer indexes keep the
-- sequencer fast.

CREATE TABLE tlog_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea  NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE tlog_checkpoints (
    tree_size bigint      PRIMARY KEY CHECK (tree_size >= 0),
    root      bytea       NOT NULL,
    note      text        NOT NULL,
    signed_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE tlog_checkpoints;
DROP TABLE tlog_hashes;
DROP TABLE tlog_entries;
