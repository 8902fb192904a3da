-- +goose Up
-- The transparency log (adapters/tlog, docs/transparency-log.md). The
-- sequencer (projector "tlog") appends one entry per event in global order and
-- with it the tree hashes that entry completes (x/mod/sumdb/tlog stored
-- hashes: the leaf hash, then one hash per level that the entry closes), in
-- the same transaction as its checkpoint. Signed checkpoints are kept here and, for
-- witnessing, outside the database. The signing key is never stored here.
CREATE TABLE tlog_entries (
    idx       bigint PRIMARY KEY CHECK (idx >= 0),
    stream_id text   NOT NULL,
    version   bigint NOT NULL,
    entry     bytea  NOT NULL,
    -- Stored hash (level k, index idx >> k) is bytes 32k..32k+31: the
    -- leaf hash, then the node hashes the entry completes.
    hashes    bytea  NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) >= 32)
);
-- No index on (stream_id, version): exports walk entries in index order and
-- find each event by the events primary key; fewer indexes keep the
-- sequencer fast.

CREATE TABLE tlog_checkpoints (
    tree_size bigint      PRIMARY KEY CHECK (tree_size >= 0),
    root      bytea       NOT NULL,
    note      text        NOT NULL,
    signed_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE tlog_checkpoints;
DROP TABLE tlog_entries;
