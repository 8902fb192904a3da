package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// groupCommit batches concurrent appends into shared transactions, the way
// databases batch WAL flushes: while one transaction commits, the appends
// that arrive queue up and go together in the next one. A single writer is
// never delayed (its batch holds one append).
//
// A batch is one call of gantry_append_batch (one statement, one implicit
// transaction, one commit): the client encodes the batch's appends as flat
// arrays once, and PostgreSQL reads the stream heads and inserts the events
// set-wise instead of running gantry_append's statements once per append.
// A batch holds distinct streams; an append to a stream already in the
// batch waits for the next one. A wrong expected version is answered with a
// row, not an error, so one conflict does not abort its neighbours. When a statement does fail (a unique violation from a race
// with another transaction), the batch rolled back as a whole and each of its
// appends is run again on its own, where the error belongs to it alone. A
// lost connection is reported to every append of the batch as it is, never
// retried: the outcome is unknown, exactly as for a single append.
type groupCommit struct {
	pool     *pgxpool.Pool
	inFlight int
	maxBatch int

	mu      sync.Mutex
	pending []*appendRequest
	running int
	// many[cmds][size] is appendManySQL(size, cmds), made when first needed.
	many [2]map[int]string
}

// manySQL returns appendManySQL(size, cmds), size a manySize.
func (g *groupCommit) manySQL(size int, cmds bool) string {
	k := 0
	if cmds {
		k = 1
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.many[k] == nil {
		g.many[k] = map[int]string{}
	}
	sql, ok := g.many[k][size]
	if !ok {
		sql = appendManySQL(size, cmds)
		g.many[k][size] = sql
	}
	return sql
}

type appendRequest struct {
	ctx  context.Context
	call *appendCall
	done chan appendOutcome
}

func (g *groupCommit) submit(ctx context.Context, c *appendCall) appendOutcome {
	r := &appendRequest{ctx: ctx, call: c, done: make(chan appendOutcome, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, r)
	if g.running < g.inFlight {
		// A free slot: this caller leads the next batch itself (no hand-over
		// to another goroutine), and leaves what arrived meanwhile to a
		// drainer.
		g.running++
		batch := g.take()
		g.mu.Unlock()
		g.commit(batch)
		g.mu.Lock()
		if len(g.pending) > 0 {
			go g.drain()
		} else {
			g.running--
		}
	}
	g.mu.Unlock()
	select {
	case o := <-r.done:
		return o
	case <-ctx.Done():
		// The append may still commit; a command ID makes a retry safe.
		return appendOutcome{err: ctx.Err()}
	}
}

// drain commits batches until nothing is pending.
func (g *groupCommit) drain() {
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		batch := g.take()
		g.mu.Unlock()
		g.commit(batch)
	}
}

// take removes the next batch from pending: up to maxBatch appends in
// arrival order, to distinct streams (a later append to a stream in the
// batch stays pending, in order). Called with mu held.
func (g *groupCommit) take() []*appendRequest {
	batch := make([]*appendRequest, 0, min(len(g.pending), g.maxBatch))
	var streams map[string]struct{}
	if len(g.pending) > 1 {
		streams = make(map[string]struct{}, cap(batch))
	}
	rest := g.pending[:0]
	for _, r := range g.pending {
		if len(batch) == g.maxBatch {
			rest = append(rest, r)
			continue
		}
		if streams != nil {
			if _, dup := streams[r.call.stream]; dup {
				rest = append(rest, r)
				continue
			}
			streams[r.call.stream] = struct{}{}
		}
		batch = append(batch, r)
	}
	clear(g.pending[len(rest):])
	g.pending = rest
	return batch
}

func (g *groupCommit) commit(batch []*appendRequest) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendOutcome{err: err}
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		r := live[0]
		r.done <- runAlone(r.ctx, g.pool, r.call)
		return
	}
	// The batch outlives any one caller: it must finish for the others.
	ctx := context.WithoutCancel(live[0].ctx)
	out, err := g.commitBatch(ctx, live)
	if err == nil {
		for i, r := range live {
			r.done <- out[i]
		}
		return
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// The server refused the statement (a unique violation from a race
		// with another transaction), so the batch rolled back: run each
		// append alone, where the error belongs to it alone.
		for _, r := range live {
			r.done <- runAlone(r.ctx, g.pool, r.call)
		}
		return
	}
	for _, r := range live {
		r.done <- appendOutcome{err: err}
	}
}

const appendBatchSQL = `SELECT idx, first_version, last_version, tx, pos, duplicate, conflict
FROM gantry_append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// commitBatch runs live as one gantry_append_batch statement and returns
// each append's row.
func (g *groupCommit) commitBatch(ctx context.Context, live []*appendRequest) ([]appendOutcome, error) {
	calls := make([]*appendCall, len(live))
	singles := true
	for i, r := range live {
		calls[i] = r.call
		singles = singles && r.call.single()
	}
	if singles {
		return g.commitSingles(ctx, live, calls)
	}
	n, m := len(live), 0
	for _, r := range live {
		m += len(r.call.ids)
	}
	var (
		streams  = make([]string, n)
		expected = make([]int64, n)
		commands = make([]pgtype.Text, n)
		counts   = make([]int32, n)
		meta     = make([][]byte, n)
		recorded = make([]time.Time, n)
		ids      = make([]pgtype.UUID, 0, m)
		types    = make([]string, 0, m)
		schemas  = make([]int32, 0, m)
		data     = make([][]byte, 0, m)
		canon    = make([][]byte, 0, m)
	)
	for i, r := range live {
		c := r.call
		streams[i], expected[i], commands[i], counts[i] = c.stream, c.expected, c.command, int32(len(c.ids))
		meta[i], recorded[i] = c.meta, c.recorded
		ids = append(ids, c.ids...)
		types = append(types, c.types...)
		schemas = append(schemas, c.schemas...)
		data = append(data, c.data...)
		canon = append(canon, c.canon...)
	}
	// FlatArray: pgx encodes these arrays without reflection.
	rows, err := g.pool.Query(ctx, appendBatchSQL, streams, expected, pgtype.FlatArray[pgtype.Text](commands), counts,
		pgtype.FlatArray[[]byte](meta), pgtype.FlatArray[time.Time](recorded), pgtype.FlatArray[pgtype.UUID](ids), types, schemas,
		pgtype.FlatArray[[]byte](data), pgtype.FlatArray[[]byte](canon))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]appendOutcome, n)
	seen := make([]bool, n)
	for rows.Next() {
		var (
			idx int32
			o   appendOutcome
		)
		if err := rows.Scan(&idx, &o.first, &o.last, &o.tx, &o.pos, &o.duplicate, &o.conflict); err != nil {
			return nil, err
		}
		if idx < 1 || int(idx) > n {
			return nil, fmt.Errorf("eventstore: gantry_append_batch answered append %d of %d", idx, n)
		}
		out[idx-1], seen[idx-1] = o, true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if !ok {
			out[i].err = errors.New("eventstore: gantry_append_batch returned no row for an append")
		}
	}
	return out, nil
}

// commitSingles runs a batch of single() appends as one appendManySQL
// statement; an append it did not write is answered like runOne's.
func (g *groupCommit) commitSingles(ctx context.Context, live []*appendRequest, calls []*appendCall) ([]appendOutcome, error) {
	type row struct {
		head int64
		pos  *int64
		tx   *string
		seen bool
	}
	n := len(calls)
	got := make([]row, n)
	cmds := false
	for _, c := range calls {
		cmds = cmds || c.command.Valid
	}
	size := manySize(n)
	rows, err := g.pool.Query(ctx, g.manySQL(size, cmds), appendManyArgs(calls, size, cmds)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			idx int32
			r   row
		)
		if err := rows.Scan(&idx, &r.head, &r.pos, &r.tx); err != nil {
			rows.Close()
			return nil, err
		}
		if int(idx) > n && int(idx) <= size {
			continue // a padding row
		}
		if idx < 1 || int(idx) > n {
			rows.Close()
			return nil, fmt.Errorf("eventstore: append batch answered append %d of %d", idx, n)
		}
		r.seen = true
		got[idx-1] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]appendOutcome, n)
	for i, r := range got {
		if !r.seen {
			out[i].err = errors.New("eventstore: append batch returned no row for an append")
			continue
		}
		out[i] = calls[i].oneOutcome(live[i].ctx, g.pool, r.head, r.pos, r.tx)
	}
	return out, nil
}
