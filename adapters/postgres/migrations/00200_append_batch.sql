-- +goose Up
-- gantry_append_batch appends a whole group-commit batch in one statement:
-- appends i = 1..n, append i to p_streams[i] with p_counts[i] events, which
-- are the next p_counts[i] elements of the flat event arrays (p_ids ...
-- p_canon). Each append behaves exactly like gantry_append: a known command
-- ID answers the first result (duplicate), a wrong expected version answers
-- a row with conflict = the stream's actual version and writes nothing, and
-- the hash chain is extended from the stream's latest row. The heads are read
-- with one index probe per stream and the events inserted with one INSERT.
-- The streams of one batch must be distinct (the caller sees to it); a
-- repeated stream or a race with another transaction ends in a unique
-- violation of events_pkey, which rolls the whole batch back (the caller
-- then runs its appends one by one with gantry_append).
-- +goose StatementBegin
CREATE FUNCTION gantry_append_batch(
    p_streams text[], p_expected bigint[], p_commands text[], p_counts int[],
    p_metadata json[], p_recorded timestamptz[],
    p_ids uuid[], p_types text[], p_schemas int[], p_data json[], p_canon bytea[])
RETURNS TABLE (idx int, first_version bigint, last_version bigint, tx text, pos bigint, duplicate boolean, conflict bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_n        int := cardinality(p_streams);
    v_m        int := cardinality(p_ids);
    v_heads    bigint[];
    v_hashes   bytea[];
    v_new      text[];
    v_status   char[];   -- 'o' appended, 'd' duplicate, 'c' conflict
    v_stream   text[] := array_fill(NULL::text, ARRAY[v_m]);
    v_version  bigint[] := array_fill(NULL::bigint, ARRAY[v_m]);
    v_meta     json[] := array_fill(NULL::json, ARRAY[v_m]);
    v_rec      timestamptz[] := array_fill(NULL::timestamptz, ARRAY[v_m]);
    v_hash     bytea[] := array_fill(NULL::bytea, ARRAY[v_m]);
    v_h        bytea;
    v_k        int := 0;
    v_tx       text := pg_current_xact_id()::text;
BEGIN
    SELECT array_agg(coalesce(h.version, 0) ORDER BY a.i), array_agg(coalesce(h.hash, ''::bytea) ORDER BY a.i)
      INTO v_heads, v_hashes
      FROM unnest(p_streams) WITH ORDINALITY a(s, i)
      LEFT JOIN LATERAL (SELECT e.version, e.hash FROM events e WHERE e.stream_id = a.s
                         ORDER BY e.version DESC LIMIT 1) h ON true;
    WITH ins AS (
        INSERT INTO appended_commands (command_id, stream_id, first_version, last_version, created_at)
        SELECT x.c, x.s, v_heads[x.i] + 1, v_heads[x.i] + x.n, x.r
          FROM unnest(p_commands, p_streams, p_counts, p_recorded) WITH ORDINALITY x(c, s, n, r, i)
         WHERE x.c IS NOT NULL
        ON CONFLICT DO NOTHING
        RETURNING command_id)
    SELECT coalesce(array_agg(command_id), '{}') INTO v_new FROM ins;
    v_status := array_fill('o'::char, ARRAY[v_n]);
    FOR i IN 1..v_n LOOP
        IF p_commands[i] IS NOT NULL AND NOT (p_commands[i] = ANY (v_new)) THEN
            v_status[i] := 'd';
        ELSIF p_expected[i] >= 0 AND v_heads[i] <> p_expected[i] THEN
            v_status[i] := 'c';
            IF p_commands[i] IS NOT NULL THEN
                DELETE FROM appended_commands WHERE command_id = p_commands[i];
            END IF;
        ELSE
            v_h := v_hashes[i];
            FOR j IN 1..p_counts[i] LOOP
                v_h := sha256(v_h || p_canon[v_k + j]);
                v_hash[v_k + j] := v_h;
                v_stream[v_k + j] := p_streams[i];
                v_version[v_k + j] := v_heads[i] + j;
                v_meta[v_k + j] := p_metadata[i];
                v_rec[v_k + j] := p_recorded[i];
            END LOOP;
        END IF;
        v_k := v_k + p_counts[i];
    END LOOP;
    RETURN QUERY
    WITH ins AS (
        INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
        SELECT x.id, x.s, x.v, x.t, x.sc, x.d, x.m, x.r, x.h
          FROM unnest(p_ids, v_stream, v_version, p_types, p_schemas, p_data, v_meta, v_rec, v_hash)
               AS x(id, s, v, t, sc, d, m, r, h)
         WHERE x.v IS NOT NULL
        RETURNING events.stream_id, events.position),
    last AS (SELECT ins.stream_id, max(ins.position) AS p FROM ins GROUP BY ins.stream_id)
    SELECT a.i::int, v_heads[a.i] + 1, v_heads[a.i] + p_counts[a.i], v_tx, l.p, false, NULL::bigint
      FROM unnest(p_streams) WITH ORDINALITY a(s, i) JOIN last l ON l.stream_id = a.s
     WHERE v_status[a.i] = 'o';
    RETURN QUERY
    SELECT i, NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, false, v_heads[i]
      FROM generate_series(1, v_n) i WHERE v_status[i] = 'c';
    RETURN QUERY
    SELECT a.i::int, c.first_version, c.last_version, e.transaction_id::text, e.position, true, NULL::bigint
      FROM unnest(p_commands) WITH ORDINALITY a(cmd, i)
      JOIN appended_commands c ON c.command_id = a.cmd
      JOIN events e ON e.stream_id = c.stream_id AND e.version = c.last_version
     WHERE v_status[a.i] = 'd';
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION gantry_append_batch;
