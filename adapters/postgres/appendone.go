package postgres

import (
	"context"
	"fmt"
	"strings"
)

// The common append, one event to a stream at a known version, is one plain
// SQL statement instead of a PL/pgSQL call: scalar parameters (no arrays to
// encode and decode), one prepared plan, no function frame, no RETURN QUERY
// tuplestore. It reads the stream's head (one probe of events_pkey), records
// the command ID when there is one, inserts the event with the next link of
// the hash chain and answers in the same statement. It writes only the happy
// path: when the head is not the expected version, or the command ID is
// already recorded, it writes nothing and the caller asks gantry_append for
// the authoritative answer (a duplicate's first result, or the conflict; a
// conflict without a command ID is answered from the head read here). A race
// with another transaction ends, as with gantry_append, in a unique
// violation of events_pkey.
//
// $1 stream, $2 expected version, $3 event ID, $4 type, $5 schema version,
// $6 data, $7 metadata, $8 recorded at, $9 canonical bytes [, $10 command ID].
const (
	appendOneHead = `WITH h AS MATERIALIZED (
  SELECT coalesce(l.version, 0) AS v, coalesce(l.hash, ''::bytea) AS hash
    FROM (SELECT) one LEFT JOIN LATERAL (
      SELECT e.version, e.hash FROM events e WHERE e.stream_id = $1::text ORDER BY e.version DESC LIMIT 1) l ON true),`
	appendOneInsert = `
ins AS (
  INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
  SELECT $3::uuid, $1::text, h.v + 1, $4::text, $5::int, $6::json, $7::json, $8::timestamptz, sha256(h.hash || $9::bytea)
    FROM h WHERE h.v = $2::bigint`
	appendOneTail = `
  RETURNING events.position, events.transaction_id)
SELECT h.v, ins.position, ins.transaction_id::text FROM h LEFT JOIN ins ON true`

	appendOneSQL    = appendOneHead + appendOneInsert + appendOneTail
	appendOneCmdSQL = appendOneHead + `
c AS (
  INSERT INTO appended_commands (command_id, stream_id, first_version, last_version, created_at)
  SELECT $10::text, $1::text, h.v + 1, h.v + 1, $8::timestamptz FROM h WHERE h.v = $2::bigint
  ON CONFLICT DO NOTHING RETURNING 1),` + appendOneInsert + ` AND EXISTS (SELECT FROM c)` + appendOneTail
)

// single reports whether c can take the one-statement path: one event, to a
// known version.
func (c *appendCall) single() bool { return len(c.ids) == 1 && c.expected >= 0 }

// runOne runs a single() append on q (the pool or a transaction).
func runOne(ctx context.Context, q querier, c *appendCall) (o appendOutcome) {
	sql := appendOneSQL
	args := []any{c.stream, c.expected, c.ids[0], c.types[0], c.schemas[0], c.data[0], c.meta, c.recorded, c.canon[0]}
	if c.command.Valid {
		sql = appendOneCmdSQL
		args = append(args, c.command.String)
	}
	var (
		head int64
		pos  *int64
		tx   *string
	)
	if o.err = q.QueryRow(ctx, sql, args...).Scan(&head, &pos, &tx); o.err != nil {
		return o
	}
	return c.oneOutcome(ctx, q, head, pos, tx)
}

// oneOutcome is the outcome of a single() append whose statement answered
// the stream's head, and the new event's position and transaction when it
// was written.
func (c *appendCall) oneOutcome(ctx context.Context, q querier, head int64, pos *int64, tx *string) (o appendOutcome) {
	switch {
	case pos != nil && tx != nil:
		v := head + 1
		o.first, o.last, o.pos, o.tx = &v, &v, pos, tx
	case !c.command.Valid:
		o.conflict = &head
	default:
		// A recorded command ID, or a conflict that may be one: the first
		// result is gantry_append's to give (it also waits for a concurrent
		// append of the same command).
		o.scan(q.QueryRow(ctx, appendSQL, c.args()...))
	}
	return o
}

// appendManySQL(n) appends a group-commit batch of n single() appends to
// distinct streams in one plain statement: the heads with one probe each,
// the command IDs with one INSERT, the events with one INSERT. Appends that
// are not written (a wrong expected version, a recorded command ID) are
// answered like runOne's. A race with another transaction, or a repeated
// stream, ends in a unique violation of events_pkey that rolls the batch
// back.
//
// The appends come as rows of scalar parameters (appendManyArgs), one
// statement text per batch size, rather than as arrays: PostgreSQL then
// knows the row count of every execution and keeps one generic plan per
// size (with arrays it cannot, and plans each execution anew). Sizes are
// powers of two (manySize), so that each connection of the pool soon has a
// generic plan for every size: a smaller batch is padded with rows of NULLs,
// which find no stream, write nothing and are answered with an index past
// the batch.
//
// A batch without command IDs has no command column and no INSERT into
// appended_commands (cmds false).
func appendManySQL(n int, cmds bool) string {
	var b strings.Builder
	k := 9
	if cmds {
		k = 10
		b.WriteString(`WITH x (i, s, ex, id, t, sc, d, m, r, c, cmd) AS (VALUES `)
	} else {
		b.WriteString(`WITH x (i, s, ex, id, t, sc, d, m, r, c) AS (VALUES `)
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		p := k * i
		fmt.Fprintf(&b, "(%d, $%d::text, $%d::bigint, $%d::uuid, $%d::text, $%d::int, $%d::json, $%d::json, $%d::timestamptz, $%d::bytea",
			i+1, p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9)
		if cmds {
			fmt.Fprintf(&b, ", $%d::text", p+10)
		}
		b.WriteString(")")
	}
	b.WriteString(`),
a AS MATERIALIZED (
  SELECT x.*, coalesce(l.version, 0) AS v, coalesce(l.hash, ''::bytea) AS hash
    FROM x LEFT JOIN LATERAL (
      SELECT e.version, e.hash FROM events e WHERE e.stream_id = x.s ORDER BY e.version DESC LIMIT 1) l ON true),`)
	written := `a.v = a.ex`
	if cmds {
		b.WriteString(`
c AS (
  INSERT INTO appended_commands (command_id, stream_id, first_version, last_version, created_at)
  SELECT a.cmd, a.s, a.v + 1, a.v + 1, a.r FROM a WHERE a.cmd IS NOT NULL AND a.v = a.ex
  ON CONFLICT DO NOTHING RETURNING command_id),`)
		written += ` AND (a.cmd IS NULL OR a.cmd IN (SELECT command_id FROM c))`
	}
	b.WriteString(`
ins AS (
  INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
  SELECT a.id, a.s, a.v + 1, a.t, a.sc, a.d, a.m, a.r, sha256(a.hash || a.c)
    FROM a WHERE ` + written + `
  RETURNING events.stream_id, events.position, events.transaction_id)
SELECT a.i, a.v, ins.position, ins.transaction_id::text FROM a LEFT JOIN ins ON ins.stream_id = a.s`)
	return b.String()
}

// manySize is the statement size for a batch of n appends: the next power
// of two (at least 2).
func manySize(n int) int {
	size := 2
	for size < n {
		size *= 2
	}
	return size
}

// appendManyArgs are appendManySQL(size, cmds)'s arguments for calls, all
// single(), padded with NULLs to size rows.
func appendManyArgs(calls []*appendCall, size int, cmds bool) []any {
	k := 9
	if cmds {
		k = 10
	}
	args := make([]any, 0, k*size)
	for _, c := range calls {
		args = append(args, c.stream, c.expected, c.ids[0], c.types[0], c.schemas[0], c.data[0], c.meta, c.recorded, c.canon[0])
		if cmds {
			args = append(args, c.command)
		}
	}
	for len(args) < k*size {
		args = append(args, nil)
	}
	return args
}
