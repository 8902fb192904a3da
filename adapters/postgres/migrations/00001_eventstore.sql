-- +goose Up
-- The event store. Global order is (transaction_id, position): readers only
-- see transactions older than the oldest one still open
-- (pg_snapshot_xmin(pg_current_snapshot())), so no late commit is skipped.
CREATE TABLE events (
    position       bigserial   NOT NULL,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    type           text        NOT NULL,
    schema_version int         NOT NULL,
    data           json        NOT NULL,
    metadata       json        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    hash           bytea       NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE UNIQUE INDEX events_global ON events (transaction_id, position);
CREATE UNIQUE INDEX events_event_id ON events (event_id);

-- One row per appended command: a re-sent command finds its first result here.
CREATE TABLE appended_commands (
    command_id    text        PRIMARY KEY,
    stream_id     text        NOT NULL,
    first_version bigint      NOT NULL,
    last_version  bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);

-- Data keys of data subjects, wrapped by the key-encryption key held only in
-- configuration. Shredding sets wrapped_key to NULL for good.
CREATE TABLE subject_keys (
    subject     text        PRIMARY KEY,
    wrapped_key bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    shredded_at timestamptz
);

-- Appends one or more events to a stream in one round trip. p_canon holds the
-- canonical bytes of each event (computed by the caller from the same values);
-- the hash chain is extended here, under the stream's latest row.
-- Errors: SQLSTATE GX409 (wrong expected version, DETAIL = actual version).
-- +goose StatementBegin
CREATE FUNCTION gantry_append(
    p_stream text, p_expected bigint, p_command text,
    p_ids uuid[], p_types text[], p_schemas int[], p_data json[],
    p_metadata json, p_recorded timestamptz, p_canon bytea[])
RETURNS TABLE (first_version bigint, last_version bigint, tx text, pos bigint, duplicate boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_version bigint;
    v_hash    bytea;
    v_n       int := cardinality(p_ids);
    v_pos     bigint;
BEGIN
    SELECT e.version, e.hash INTO v_version, v_hash
      FROM events e WHERE e.stream_id = p_stream ORDER BY e.version DESC LIMIT 1;
    IF NOT FOUND THEN
        v_version := 0;
        v_hash := ''::bytea;
    END IF;
    IF p_command IS NOT NULL THEN
        INSERT INTO appended_commands (command_id, stream_id, first_version, last_version, created_at)
        VALUES (p_command, p_stream, v_version + 1, v_version + v_n, p_recorded)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN QUERY
              SELECT c.first_version, c.last_version, e.transaction_id::text, e.position, true
                FROM appended_commands c
                JOIN events e ON e.stream_id = c.stream_id AND e.version = c.last_version
               WHERE c.command_id = p_command;
            RETURN;
        END IF;
    END IF;
    IF p_expected >= 0 AND v_version <> p_expected THEN
        RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'GX409', DETAIL = v_version::text;
    END IF;
    FOR i IN 1..v_n LOOP
        v_hash := sha256(v_hash || p_canon[i]);
        INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
        VALUES (p_ids[i], p_stream, v_version + i, p_types[i], p_schemas[i], p_data[i], p_metadata, p_recorded, v_hash)
        RETURNING events.position INTO v_pos;
    END LOOP;
    RETURN QUERY SELECT v_version + 1, v_version + v_n, pg_current_xact_id()::text, v_pos, false;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION gantry_append;
DROP TABLE subject_keys;
DROP TABLE appended_commands;
DROP TABLE events;
