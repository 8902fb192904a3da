package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// groupCommit batches concurrent appends into shared transactions, the way
// databases batch WAL flushes: while one transaction commits, the appends
// that arrive queue up and go together in the next one. A single writer is
// never delayed (its batch holds one append).
//
// A batch is sent as one pipeline with one Sync, so PostgreSQL runs it as one
// implicit transaction and commits it once. gantry_append answers a wrong
// expected version with a row, not an error, so one conflict does not abort
// its neighbours. When a statement does fail (a unique violation from a race
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
}

type appendRequest struct {
	ctx  context.Context
	args []any
	keys []any // gantry_put_keys arguments, nil without new keys
	done chan appendOutcome
}

func (g *groupCommit) submit(ctx context.Context, args, keys []any) appendOutcome {
	r := &appendRequest{ctx: ctx, args: args, keys: keys, done: make(chan appendOutcome, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, r)
	if g.running < g.inFlight {
		g.running++
		go g.drain()
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
		n := min(len(g.pending), g.maxBatch)
		if n == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		batch := append([]*appendRequest(nil), g.pending[:n]...)
		g.pending = append(g.pending[:0], g.pending[n:]...)
		g.mu.Unlock()
		g.commit(batch)
	}
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
		r.done <- runAppend(r.ctx, g.pool, r.args, r.keys)
		return
	}
	// The batch outlives any one caller: it must finish for the others.
	ctx := context.WithoutCancel(live[0].ctx)
	b := &pgx.Batch{}
	for _, r := range live {
		sql, args := appendQuery(r.args, r.keys) // with a new subject's key, in the same statement
		b.Queue(sql, args...)
	}
	out := make([]appendOutcome, len(live))
	br := g.pool.SendBatch(ctx, b)
	for i := range live {
		out[i].scan(br.QueryRow())
	}
	err := br.Close()
	for _, o := range out {
		if err == nil && o.err != nil {
			err = o.err
		}
	}
	if err == nil {
		for i, r := range live {
			r.done <- out[i]
		}
		return
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// The server refused a statement, so the transaction rolled back:
		// run each append alone.
		for _, r := range live {
			r.done <- runAppend(r.ctx, g.pool, r.args, r.keys)
		}
		return
	}
	for _, r := range live {
		r.done <- appendOutcome{err: err}
	}
}
