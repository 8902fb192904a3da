-- +goose Up
-- The API's rate-limit buckets shared by every instance on this database
-- (GANTRY_REPLICAS=on; adapters/postgres.RateLimits). One row per key: the
-- key is an HMAC of "class|addr|address" or "class|target|ID" (no client
-- address, ID or link token rests in plaintext), tat the bucket's
-- theoretical arrival time (GCRA) in Unix microseconds. A row whose tat has
-- passed is a full bucket and is pruned. UNLOGGED: no WAL, so a crash of
-- PostgreSQL empties it (every bucket full again), which is acceptable for
-- rate limits and keeps the cost of a request to one un-logged upsert.
CREATE UNLOGGED TABLE rate_buckets (
    key bytea  PRIMARY KEY,
    tat bigint NOT NULL
);

-- +goose Down
DROP TABLE rate_buckets;
