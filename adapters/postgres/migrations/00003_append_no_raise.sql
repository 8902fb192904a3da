-- +goose Up
-- gantry_append answers a wrong expected version with a row (conflict =
-- the stream's actual version) instead of raising, so that several appends
-- can share one transaction (group commit) and one conflict does not abort
-- the others. A unique violation on events_pkey (a race with another
-- transaction) still raises.
DROP FUNCTION gantry_append;
-- +goose StatementBegin
CREATE FUNCTION gantry_append(
    p_stream text, p_expected bigint, p_command text,
    p_ids uuid[], p_types text[], p_schemas int[], p_data json[],
    p_metadata json, p_recorded timestamptz, p_canon bytea[])
RETURNS TABLE (first_version bigint, last_version bigint, tx text, pos bigint, duplicate boolean, conflict bigint)
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
              SELECT c.first_version, c.last_version, e.transaction_id::text, e.position, true, NULL::bigint
                FROM appended_commands c
                JOIN events e ON e.stream_id = c.stream_id AND e.version = c.last_version
               WHERE c.command_id = p_command;
            RETURN;
        END IF;
    END IF;
    IF p_expected >= 0 AND v_version <> p_expected THEN
        IF p_command IS NOT NULL THEN
            DELETE FROM appended_commands WHERE command_id = p_command;
        END IF;
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, false, v_version;
        RETURN;
    END IF;
    FOR i IN 1..v_n LOOP
        v_hash := sha256(v_hash || p_canon[i]);
        INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
        VALUES (p_ids[i], p_stream, v_version + i, p_types[i], p_schemas[i], p_data[i], p_metadata, p_recorded, v_hash)
        RETURNING events.position INTO v_pos;
    END LOOP;
    RETURN QUERY SELECT v_version + 1, v_version + v_n, pg_current_xact_id()::text, v_pos, false, NULL::bigint;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION gantry_append;
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
