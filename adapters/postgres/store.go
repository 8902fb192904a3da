package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Clock gives the recorded time of appended events.
type Clock interface{ Now() time.Time }

// Store is the PostgreSQL event store. Safe for concurrent use.
//
// Append is one call of the gantry_append function: it checks the expected
// version, records the command ID, inserts the events and extends the
// stream's hash chain. Concurrent appends share transactions (group commit,
// see groupCommit); each returns once its transaction committed. Global reads use the
// transaction-id snapshot technique (see package eventstore).
type Store struct {
	pool      *pgxpool.Pool
	clock     Clock
	batchSize int
	poll      time.Duration

	group *groupCommit
	// maxEvent is the largest event data accepted (0: no limit).
	maxEvent int

	mu sync.Mutex
	// waiters are the subscriptions waiting for events; the value is
	// whether the waiter is held back (see subscription.Next).
	waiters map[chan struct{}]bool
	// notify asks ShareWakes's notifier, when it runs, to tell other
	// processes that events were appended.
	notify chan struct{}
	// token tells this store's notifications from other processes'.
	token string
}

// Option configures a Store.
type Option func(*Store)

// WithMaxEventSize refuses events whose data is over n bytes with an
// *es.EventTooLargeError, before anything is written (es.MaxEventSize is the
// intended limit; 0, the default, is none).
func WithMaxEventSize(n int) Option { return func(s *Store) { s.maxEvent = n } }

// WithBatchSize sets how many events ReadAll-based subscriptions fetch at once.
func WithBatchSize(n int) Option { return func(s *Store) { s.batchSize = n } }

// WithPollInterval sets how often subscriptions look for events appended by
// other processes (appends in this process wake them at once).
func WithPollInterval(d time.Duration) Option { return func(s *Store) { s.poll = d } }

// Group commit defaults: two transactions in flight (one committing while
// the next fills), up to 64 appends each. Measured by make bench.
const (
	defaultGroupInFlight = 2
	defaultGroupBatch    = 64
)

// WithGroupCommit lets concurrent appends share transactions: at most
// inFlight transactions at once, each carrying up to maxBatch appends that
// arrived while earlier ones were committing. Every append still returns only
// after its transaction committed, and a conflict in one append does not
// affect the others. inFlight 0 turns it off (one transaction per append).
func WithGroupCommit(inFlight, maxBatch int) Option {
	return func(s *Store) {
		s.group = nil
		if inFlight > 0 {
			s.group = &groupCommit{pool: s.pool, inFlight: inFlight, maxBatch: max(1, maxBatch)}
		}
	}
}

// NewStore returns a Store on pool; clock stamps recorded times.
func NewStore(pool *pgxpool.Pool, clock Clock, opts ...Option) *Store {
	s := &Store{pool: pool, clock: clock, batchSize: 1000, poll: 50 * time.Millisecond, waiters: map[chan struct{}]bool{},
		notify: make(chan struct{}, 1), token: newToken()}
	WithGroupCommit(defaultGroupInFlight, defaultGroupBatch)(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

const appendSQL = `SELECT first_version, last_version, tx, pos, duplicate, conflict
FROM gantry_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, md es.Metadata, events ...es.EventData) (es.AppendResult, error) {
	if stream == "" {
		return es.AppendResult{}, errors.New("eventstore: empty stream id")
	}
	if len(events) == 0 {
		return es.AppendResult{}, errors.New("eventstore: nothing to append")
	}
	if err := es.CheckSizes(stream, events, s.maxEvent); err != nil {
		return es.AppendResult{}, err
	}
	meta, err := metadataJSON(md)
	if err != nil {
		return es.AppendResult{}, err
	}
	for attempt := 0; ; attempt++ {
		exp := expected
		if expected == es.Any {
			// The canonical bytes include versions, so learn the head first;
			// a race with another writer is retried below.
			v, err := s.streamVersion(ctx, stream)
			if err != nil {
				return es.AppendResult{}, err
			}
			exp = es.ExpectedVersion(v)
		}
		res, err := s.append(ctx, stream, exp, md.CommandID, meta, events)
		var wv *es.WrongVersionError
		if expected == es.Any && errors.As(err, &wv) && attempt < 10 {
			continue
		}
		if err != nil && errors.As(err, &wv) {
			wv.Expected = expected
		}
		return res, err
	}
}

func (s *Store) append(ctx context.Context, stream string, expected es.ExpectedVersion, commandID string, meta []byte, events []es.EventData) (es.AppendResult, error) {
	c := s.newCall(stream, expected, commandID, meta, events)
	var out appendOutcome
	if keys := keysArgs(es.KeysOf(events...)); keys != nil {
		// A new subject's key goes in the same statement as its append
		// (appendKeysSQL), so this append runs alone, outside the shared
		// group-commit statement.
		out = runAppend(ctx, s.pool, c.args(), keys)
	} else if s.group != nil {
		out = s.group.submit(ctx, c)
	} else {
		out = runAlone(ctx, s.pool, c)
	}
	res, err := s.outcome(ctx, s.pool, out, stream, expected)
	if err == nil && !res.Duplicate {
		s.wake()
	}
	return res, err
}

// appendKeysSQL is appendSQL for an append that carries new data keys
// ($11 subjects, $12 wrapped keys): gantry_put_keys (migration 00100) writes
// them in the same statement, after gantry_append and only if it wrote the
// events (CASE fixes that order), so a conflict or a re-sent command leaves
// no key behind, and a refused key fails the whole statement.
const appendKeysSQL = `SELECT first_version, last_version, tx, pos, duplicate, conflict
FROM gantry_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) a
WHERE CASE WHEN a.conflict IS NULL AND NOT a.duplicate THEN gantry_put_keys($11::text[], $12::bytea[]) ELSE true END`

// putKeysSQL writes the new data keys of an AppendMany, in its transaction.
const putKeysSQL = `SELECT gantry_put_keys($1::text[], $2::bytea[])`

// keysArgs are the arguments of gantry_put_keys, or nil for no keys.
func keysArgs(keys []es.SubjectKey) []any {
	if len(keys) == 0 {
		return nil
	}
	subjects := make([]string, len(keys))
	wrapped := make([][]byte, len(keys))
	for i, k := range keys {
		subjects[i], wrapped[i] = k.Subject, k.Wrapped
	}
	return []any{subjects, wrapped}
}

// appendQuery is the statement of one append and its arguments.
func appendQuery(args, keys []any) (string, []any) {
	if keys == nil {
		return appendSQL, args
	}
	return appendKeysSQL, append(append(make([]any, 0, len(args)+2), args...), keys...)
}

// runAlone runs one append without keys on q (the pool or a transaction):
// one plain statement for a single event (runOne), else gantry_append.
func runAlone(ctx context.Context, q querier, c *appendCall) (o appendOutcome) {
	if c.single() {
		return runOne(ctx, q, c)
	}
	o.scan(q.QueryRow(ctx, appendSQL, c.args()...))
	return o
}

// runAppend runs one append, with the keys it carries, in one statement.
func runAppend(ctx context.Context, pool *pgxpool.Pool, args, keys []any) (o appendOutcome) {
	sql, all := appendQuery(args, keys)
	o.scan(pool.QueryRow(ctx, sql, all...))
	return o
}

// keyChanged turns gantry_put_keys' refusal into *es.KeyChangedError.
func keyChanged(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "GK001" {
		return &es.KeyChangedError{Subjects: strings.Split(pgErr.Detail, ",")}
	}
	return err
}

// appendCall is one append as gantry_append (or one element of
// gantry_append_batch) takes it, in types pgx encodes without reflection.
// The canonical bytes of the hash chain are computed here from the same
// values.
type appendCall struct {
	stream   string
	expected int64
	command  pgtype.Text
	ids      []pgtype.UUID
	types    []string
	schemas  []int32
	data     [][]byte
	meta     []byte
	recorded time.Time
	canon    [][]byte
}

func (s *Store) newCall(stream string, expected es.ExpectedVersion, commandID string, meta []byte, events []es.EventData) *appendCall {
	now := es.TruncateTime(s.clock.Now())
	n := len(events)
	c := &appendCall{stream: stream, expected: int64(expected), command: pgtype.Text{String: commandID, Valid: commandID != ""},
		ids: make([]pgtype.UUID, n), types: make([]string, n), schemas: make([]int32, n), data: make([][]byte, n),
		meta: meta, recorded: now, canon: make([][]byte, n)}
	for i, e := range events {
		c.ids[i] = pgtype.UUID{Bytes: e.ID, Valid: true}
		c.types[i] = e.Type
		c.schemas[i] = int32(e.SchemaVersion)
		c.data[i] = e.Data
		c.canon[i] = es.Canonical(stream, int64(expected)+int64(i)+1, e.ID, e.Type, e.SchemaVersion, e.Data, meta, now)
	}
	return c
}

// args are the arguments of gantry_append.
func (c *appendCall) args() []any {
	return []any{c.stream, c.expected, c.command, pgtype.FlatArray[pgtype.UUID](c.ids), c.types, c.schemas,
		pgtype.FlatArray[[]byte](c.data), c.meta, c.recorded, pgtype.FlatArray[[]byte](c.canon)}
}

// outcome turns a gantry_append row (or its error) into the port's result.
func (s *Store) outcome(ctx context.Context, q querier, out appendOutcome, stream string, expected es.ExpectedVersion) (es.AppendResult, error) {
	res, err := out.result(stream, expected)
	if err == nil {
		return res, nil
	}
	if kc := keyChanged(err); kc != err {
		return es.AppendResult{}, kc
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_pkey" {
		// Another transaction appended to the stream first.
		var actual int64
		if verr := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1`, stream).Scan(&actual); verr != nil {
			return es.AppendResult{}, translate(verr)
		}
		return es.AppendResult{}, &es.WrongVersionError{Stream: stream, Expected: expected, Actual: actual}
	}
	return es.AppendResult{}, translate(err)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// AppendMany implements eventstore.Store: one explicit transaction with one
// gantry_append per stream, rolled back on the first conflict. Each stream's
// command record is the command ID with the stream appended, so a re-sent
// call finds all of them.
func (s *Store) AppendMany(ctx context.Context, md es.Metadata, appends ...es.StreamAppend) ([]es.AppendResult, error) {
	if len(appends) == 0 {
		return nil, errors.New("eventstore: nothing to append")
	}
	for _, a := range appends {
		if err := es.CheckSizes(a.Stream, a.Events, s.maxEvent); err != nil {
			return nil, err
		}
	}
	meta, err := metadataJSON(md)
	if err != nil {
		return nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback(ctx)
	out, err := s.appendInTx(ctx, tx, md, meta, appends)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, translate(err)
	}
	s.wake()
	return out, nil
}

// appendInTx runs one gantry_append per stream in tx (AppendMany,
// AppendWithin); the first conflict is returned and tx must be rolled back.
func (s *Store) appendInTx(ctx context.Context, tx pgx.Tx, md es.Metadata, meta []byte, appends []es.StreamAppend) ([]es.AppendResult, error) {
	// New data keys the events carry, in the same transaction (AppendWithin
	// included).
	var events []es.EventData
	for _, a := range appends {
		events = append(events, a.Events...)
	}
	if keys := keysArgs(es.KeysOf(events...)); keys != nil {
		if _, err := tx.Exec(ctx, putKeysSQL, keys...); err != nil {
			return nil, translate(keyChanged(err))
		}
	}
	out := make([]es.AppendResult, 0, len(appends))
	for _, a := range appends {
		if a.Stream == "" || len(a.Events) == 0 {
			return nil, fmt.Errorf("eventstore: append to %q without a stream or events", a.Stream)
		}
		exp := a.Expected
		if exp == es.Any {
			// Within the transaction; a racing writer ends in a conflict.
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1`, a.Stream).Scan(&exp); err != nil {
				return nil, translate(err)
			}
		}
		cmd := ""
		if md.CommandID != "" {
			cmd = md.CommandID + "@" + a.Stream
		}
		o := runAlone(ctx, tx, s.newCall(a.Stream, exp, cmd, meta, a.Events))
		res, err := s.outcome(ctx, s.pool, o, a.Stream, a.Expected)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// appendOutcome is one row of gantry_append, or the error that prevented it.
type appendOutcome struct {
	first, last, pos, conflict *int64
	tx                         *string
	duplicate                  bool
	err                        error
}

func (o *appendOutcome) scan(row pgx.Row) {
	o.err = row.Scan(&o.first, &o.last, &o.tx, &o.pos, &o.duplicate, &o.conflict)
}

func (o appendOutcome) result(stream string, expected es.ExpectedVersion) (es.AppendResult, error) {
	if o.err != nil {
		return es.AppendResult{}, o.err
	}
	if o.conflict != nil {
		return es.AppendResult{}, &es.WrongVersionError{Stream: stream, Expected: expected, Actual: *o.conflict}
	}
	if o.first == nil || o.last == nil || o.tx == nil || o.pos == nil {
		return es.AppendResult{}, errors.New("eventstore: gantry_append returned an incomplete row")
	}
	commit, _ := strconv.ParseUint(*o.tx, 10, 64)
	return es.AppendResult{StreamID: stream, FirstVersion: *o.first, LastVersion: *o.last, Duplicate: o.duplicate,
		Position: es.Position{Commit: commit, Prepare: uint64(*o.pos)}}, nil
}

func (s *Store) streamVersion(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1`, stream).Scan(&v)
	return v, translate(err)
}

// selectEvent's output column transaction_id is text: ORDER BY must name
// events.transaction_id, or it sorts the text ("999" after "1000").
const selectEvent = `SELECT event_id, stream_id, version, transaction_id::text, position, type, schema_version,
 data::text, metadata::text, recorded_at, hash FROM events `

func scanEvents(rows pgx.Rows) ([]es.RecordedEvent, error) {
	defer rows.Close()
	var (
		out  []es.RecordedEvent
		prev *es.RecordedEvent
	)
	for rows.Next() {
		e, err := scanOne(rows)
		if err != nil {
			return nil, err
		}
		switch {
		case len(e.RawMetadata) == 2: // "{}": nothing to decode (also skipped events)
		case prev != nil && bytes.Equal(prev.RawMetadata, e.RawMetadata):
			// The events of one append share their metadata: decode it once.
			e.Metadata, e.RawMetadata = prev.Metadata, prev.RawMetadata
		default:
			if err := json.Unmarshal(e.RawMetadata, &e.Metadata); err != nil {
				return nil, fmt.Errorf("event %s@%d (type %q): metadata cannot be decoded: %w", e.StreamID, e.Version, e.Type, err)
			}
		}
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out, translate(rows.Err())
}

// scanOne reads one row of selectEvent, leaving Metadata undecoded.
func scanOne(rows pgx.Rows) (es.RecordedEvent, error) {
	var (
		e   es.RecordedEvent
		tx  string
		pos int64
	)
	// Data and metadata are scanned straight into byte slices (one copy).
	if err := rows.Scan(&e.ID, &e.StreamID, &e.Version, &tx, &pos, &e.Type, &e.SchemaVersion, &e.Data, &e.RawMetadata, &e.RecordedAt, &e.Hash); err != nil {
		return e, translate(err)
	}
	commit, _ := strconv.ParseUint(tx, 10, 64)
	e.Position = es.Position{Commit: commit, Prepare: uint64(pos)}
	e.RecordedAt = e.RecordedAt.UTC()
	return e, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, dir es.Direction, from int64, max int) ([]es.RecordedEvent, error) {
	if max <= 0 {
		max = 1 << 30
	}
	var q string
	switch {
	case dir == es.Forwards:
		q = selectEvent + `WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3`
	case from <= 0:
		q = selectEvent + `WHERE stream_id = $1 AND $2::bigint <= 0 ORDER BY version DESC LIMIT $3`
	default:
		q = selectEvent + `WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT $3`
	}
	rows, err := s.pool.Query(ctx, q, stream, from, max)
	if err != nil {
		return nil, translate(err)
	}
	return scanEvents(rows)
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from es.Position, max int) ([]es.RecordedEvent, error) {
	return s.ReadAllTypes(ctx, from, max, nil)
}

// ReadAllTypes reads the next max events after from like ReadAll, but
// returns only those whose type is in types, plus the last of the max events
// whatever its type, so that a reader can move its position past the events
// it skips. That last event carries no Data (nor Metadata) unless its type is
// wanted. The filtering is done by PostgreSQL: the skipped events' data never
// leaves the server. Nil types means every event (ReadAll).
func (s *Store) ReadAllTypes(ctx context.Context, from es.Position, max int, types []string) ([]es.RecordedEvent, error) {
	if max <= 0 {
		max = s.batchSize
	}
	// QueryExecModeDescribeExec plans each read with its real parameters (a
	// cached generic plan made while the log was small would sort the whole
	// log) and, unlike QueryExecModeExec, gets the rows in binary: no text
	// parsing of UUIDs, times and hex-encoded hashes on the client.
	c, p := strconv.FormatUint(from.Commit, 10), int64(from.Prepare)
	var (
		rows pgx.Rows
		err  error
	)
	if types == nil {
		rows, err = s.pool.Query(ctx, selectEvent+`
WHERE (transaction_id, position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.position LIMIT $3`, pgx.QueryExecModeDescribeExec, c, p, max)
	} else {
		// The window is the next max readable events (an index scan of
		// positions and types only); the rows fetched whole are the wanted
		// ones and the window's last one, by ctid.
		rows, err = s.pool.Query(ctx, `WITH w AS MATERIALIZED (
  SELECT ctid AS c, transaction_id AS t, position AS p, type = ANY($4::text[]) AS wanted FROM events
  WHERE (transaction_id, position) > ($1::text::xid8, $2)
    AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY events.transaction_id, events.position LIMIT $3)
SELECT event_id, stream_id, version, transaction_id::text, position, type, schema_version,
 CASE WHEN type = ANY($4::text[]) THEN data::text ELSE '' END, CASE WHEN type = ANY($4::text[]) THEN metadata::text ELSE '{}' END, recorded_at, hash
FROM events WHERE ctid = ANY(ARRAY(
  SELECT c FROM w WHERE wanted
  UNION ALL (SELECT c FROM w ORDER BY t DESC, p DESC LIMIT 1)))
ORDER BY events.transaction_id, events.position`, pgx.QueryExecModeDescribeExec, c, p, max, types)
	}
	if err != nil {
		return nil, translate(err)
	}
	return scanEvents(rows)
}

// Head implements eventstore.Store: the position of the last committed
// event, readable or not yet (a transaction that started earlier may still
// be open). Waiting for it after a write is read-your-writes.
func (s *Store) Head(ctx context.Context) (es.Position, error) {
	var (
		tx  string
		pos int64
	)
	err := s.pool.QueryRow(ctx, `SELECT transaction_id::text, position FROM events
ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`).Scan(&tx, &pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return es.Start, nil
	}
	if err != nil {
		return es.Position{}, translate(err)
	}
	c, _ := strconv.ParseUint(tx, 10, 64)
	return es.Position{Commit: c, Prepare: uint64(pos)}, nil
}

// Behind counts committed events after p (at most limit) and the recorded
// time of the first of them: the lag of a reader at p.
func (s *Store) Behind(ctx context.Context, p es.Position, limit int) (int64, time.Time, error) {
	var (
		n     int64
		first *time.Time
	)
	// Every committed event counts, readable or still held back by an
	// older open transaction: a hold shows as lag (see Horizon).
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(recorded_at) FROM (
  SELECT recorded_at FROM events
  WHERE (transaction_id, position) > ($1::text::xid8, $2)
  ORDER BY transaction_id, position LIMIT $3) t`, pgx.QueryExecModeExec, strconv.FormatUint(p.Commit, 10), int64(p.Prepare), limit).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, translate(err)
	}
	if first == nil {
		return n, time.Time{}, nil
	}
	return n, *first, nil
}

// Subscribe implements eventstore.Store by reading the global log in
// batches; appends in this process wake it at once, others are seen within
// the poll interval.
func (s *Store) Subscribe(ctx context.Context, from es.Position) es.Subscription {
	return &subscription{s: s, pos: from}
}

// SubscribeTypes is Subscribe with the filtering of ReadAllTypes: each batch
// holds the wanted events of the next window, and its last event is the
// window's last (which may be of another type, without data), so a reader
// moves past what it skips.
func (s *Store) SubscribeTypes(ctx context.Context, from es.Position, types []string) es.Subscription {
	return &subscription{s: s, pos: from, types: types}
}

type subscription struct {
	s     *Store
	pos   es.Position
	types []string
}

func (sub *subscription) Reset(p es.Position) { sub.pos = p }

// Next reads the next batch; with nothing readable it waits for a wake-up
// or a poll. Appends in this process (and, with ShareWakes, in others) wake
// it at once. When events are committed but held back by an older open
// transaction (the xmin horizon), it also wakes when a transaction of this
// process commits (Wake) and otherwise polls after 1 ms, then 2, 4 … up to
// the poll interval, since such a hold is usually a few milliseconds.
func (sub *subscription) Next(ctx context.Context) ([]es.RecordedEvent, error) {
	ch := sub.s.waiter()
	defer sub.s.unwait(ch)
	backoff := time.Millisecond
	for {
		evs, err := sub.s.ReadAllTypes(ctx, sub.pos, sub.s.batchSize, sub.types)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			sub.pos = evs[len(evs)-1].Position
			return evs, nil
		}
		wait := sub.s.poll
		held, err := sub.s.heldBack(ctx, sub.pos)
		if err != nil {
			return nil, err
		}
		if held {
			wait = min(backoff, wait)
			backoff *= 2
		} else {
			backoff = time.Millisecond
		}
		sub.s.setHeld(ch, held)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ch:
			t.Stop()
		case <-t.C:
		}
	}
}

// heldBack reports whether an event after p is committed but not yet
// readable: an older transaction is still open.
func (s *Store) heldBack(ctx context.Context, p es.Position) (bool, error) {
	var held bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2))`,
		strconv.FormatUint(p.Commit, 10), int64(p.Prepare)).Scan(&held)
	return held, translate(err)
}

func (s *Store) waiter() chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.waiters[ch] = false
	s.mu.Unlock()
	return ch
}

func (s *Store) setHeld(ch chan struct{}, held bool) {
	s.mu.Lock()
	s.waiters[ch] = held
	s.mu.Unlock()
}

func (s *Store) unwait(ch chan struct{}) {
	s.mu.Lock()
	delete(s.waiters, ch)
	s.mu.Unlock()
}

// wake wakes every subscription of this process after an append and, with
// ShareWakes, those of other processes.
func (s *Store) wake() {
	s.wakeLocal(false)
	select {
	case s.notify <- struct{}{}:
	default: // a notification is already due; it covers this append
	}
}

// Wake tells the store that a transaction of this process committed (a
// projector's batch): subscriptions held back by the xmin horizon read
// again, since that transaction may have been what held them.
func (s *Store) Wake() { s.wakeLocal(true) }

// wakeLocal wakes this process's subscriptions (only the held-back ones
// with heldOnly).
func (s *Store) wakeLocal(heldOnly bool) {
	s.mu.Lock()
	for ch, held := range s.waiters {
		if heldOnly && !held {
			continue
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// translate maps driver errors to the port's: a lost or refused connection is
// ErrUnavailable (callers answer 503 and may retry).
func translate(err error) error {
	if err == nil {
		return nil
	}
	if IsUnavailable(err) {
		return fmt.Errorf("%w: %v", es.ErrUnavailable, err)
	}
	return err
}

// IsUnavailable reports whether err means the database cannot be reached
// (connection refused or lost, server shutting down, too many connections).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, es.ErrUnavailable) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "57", "53": // connection exception, operator intervention, insufficient resources
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || isNetErr(err)
}

// Horizon is what holds global-log delivery back: the oldest transaction
// with a transaction ID still open anywhere on the server (readers of $all
// see nothing that committed after it started), and how many committed
// events wait behind it.
type Horizon struct {
	// OldestAge is how long the oldest open transaction has been running
	// (0 when none is open).
	OldestAge time.Duration
	// OldestPID, OldestState, OldestApp and OldestDatabase describe it.
	OldestPID      int
	OldestState    string
	OldestApp      string
	OldestDatabase string
	// Waiting counts committed events that readers cannot see yet.
	Waiting int64
}

// Horizon reports the xmin horizon of global-log delivery. The oldest
// transaction is read from pg_stat_activity (every database of the
// cluster: transaction IDs are cluster-wide); seeing other roles' sessions
// needs pg_read_all_stats.
func (s *Store) Horizon(ctx context.Context) (Horizon, error) {
	var (
		h     Horizon
		age   float64
		pid   *int32
		state *string
		app   *string
		db    *string
	)
	err := s.pool.QueryRow(ctx, `SELECT
  coalesce((SELECT extract(epoch FROM clock_timestamp() - xact_start)::float8 FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1), 0),
  (SELECT pid FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1),
  (SELECT state FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1),
  (SELECT application_name FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1),
  (SELECT datname::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1),
  (SELECT count(*) FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot()))`).Scan(&age, &pid, &state, &app, &db, &h.Waiting)
	if err != nil {
		return h, translate(err)
	}
	h.OldestAge = time.Duration(age * float64(time.Second))
	if pid != nil {
		h.OldestPID = int(*pid)
	}
	if state != nil {
		h.OldestState = *state
	}
	if app != nil {
		h.OldestApp = *app
	}
	if db != nil {
		h.OldestDatabase = *db
	}
	return h, nil
}
