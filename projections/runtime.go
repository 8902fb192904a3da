// Package projections runs projectors: each builds PostgreSQL read models
// from the global event log, in order, exactly once.
//
// A projector has a durable name (its checkpoint key — renaming one replays
// it from the start) and owns one schema, proj_<name>. The runtime delivers
// events in global order from the checkpoint in batches; the projector's
// writes and the new checkpoint commit in one transaction, so a crash between
// them never applies an event twice or loses one. Within that transaction
// search_path is the projector's schema, so projectors write unqualified
// table names; queries read proj_<name>.<table>.
//
// A failing batch is retried with backoff; if it keeps failing the batch is
// replayed one event at a time, and the event that still fails stops the
// projector with its stream, version, type and error (log, /healthz,
// metrics). Nothing is skipped silently.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

// Projector builds read models from events.
//
// Setup creates the projector's tables (CREATE TABLE IF NOT EXISTS, unqualified
// names) in the current schema; it runs when the projector starts and before a
// rebuild. Apply writes the effect of a batch of events, in order, in tx; it
// must use only tx and the events (their recorded time, never the wall clock),
// so a replay builds the same view.
type Projector interface {
	Name() string
	Setup(ctx context.Context, tx pgx.Tx) error
	Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error
}

// Selective is a Projector that applies only some event types. The runtime
// hands it only events of those types: others are skipped before their data
// is read or decoded (the filtering is done in SQL), and the checkpoint still
// moves past them, so the lag stays right. A projector that is not Selective
// gets every event.
type Selective interface {
	Projector
	EventTypes() []string
}

// Raw is a Projector that needs the stored events only (the transparency
// log's sequencer): the runtime hands it every event undecoded, Payload
// nil, so no decoding is spent on it and no undecodable event stops it.
type Raw interface {
	Projector
	RawEvents()
}

// Impersonal is a Projector that never reads personal data: the runtime
// hands it events whose domain.Personal values are all zero (withheld, not
// opened: see eventstore.Codec.DecodeAllWithheld). No data key is read for
// it and nothing is decrypted, which makes its catch-up and rebuild
// cheaper, and it cannot put personal data into its view even by mistake.
type Impersonal interface {
	Projector
	ReadsNoPersonalData()
}

// rawEvents wraps batch as events without payloads.
func rawEvents(batch []es.RecordedEvent) []es.Event {
	out := make([]es.Event, len(batch))
	for i, b := range batch {
		out[i] = es.Event{RecordedEvent: b}
	}
	return out
}

// TypesOf lists the event types of zero values, for EventTypes.
func TypesOf(events ...domain.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventType()
	}
	return out
}

// wanted returns p's event types (nil: every type) and a test for them.
func wanted(p Projector) ([]string, func(string) bool) {
	sp, ok := p.(Selective)
	if !ok {
		return nil, func(string) bool { return true }
	}
	types := sp.EventTypes()
	set := make(map[string]bool, len(types))
	for _, t := range types {
		set[t] = true
	}
	return append([]string{}, types...), func(t string) bool { return set[t] }
}

// decodeWanted decodes the events of batch that p handles; the others are
// never decoded. For an Impersonal p, personal data is withheld, not opened.
func decodeWanted(ctx context.Context, codec *es.Codec, p Projector, batch []es.RecordedEvent, want func(string) bool) ([]es.Event, error) {
	keep := batch
	for i, b := range batch {
		if !want(b.Type) {
			keep = make([]es.RecordedEvent, 0, len(batch))
			keep = append(keep, batch[:i]...)
			for _, b := range batch[i+1:] {
				if want(b.Type) {
					keep = append(keep, b)
				}
			}
			break
		}
	}
	if _, ok := p.(Impersonal); ok {
		return codec.DecodeAllWithheld(keep)
	}
	return codec.DecodeAll(ctx, keep)
}

// Schema is the schema a projector's live tables are in.
func Schema(name string) string { return "proj_" + name }

// Source is what the runtime reads: the global log and how far behind a
// position is.
//
// SubscribeTypes and ReadAllTypes with types nil deliver every event; with
// types set, the events of those types within the next window of the log,
// plus the window's last event whatever its type (so the reader's position
// moves past skipped events; such an event carries no data).
type Source interface {
	SubscribeTypes(ctx context.Context, from es.Position, types []string) es.Subscription
	ReadAllTypes(ctx context.Context, from es.Position, max int, types []string) ([]es.RecordedEvent, error)
	Behind(ctx context.Context, p es.Position, limit int) (int64, time.Time, error)
	Head(ctx context.Context) (es.Position, error)
}

// State of a projector.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateRetrying = "retrying"
	StateFailed   = "failed"
)

// Status reports one projector.
type Status struct {
	Name       string      `json:"name"`
	State      string      `json:"state"`
	Position   es.Position `json:"-"`
	Checkpoint string      `json:"checkpoint"`
	Error      string      `json:"error,omitempty"`
	LagEvents  int64       `json:"lag_events"`
	LagSeconds float64     `json:"lag_seconds"`
}

// Runner runs projectors. Safe for concurrent use.
type Runner struct {
	pool        *pgxpool.Pool
	src         Source
	codec       *es.Codec
	log         *slog.Logger
	projectors  []Projector
	maxAttempts int
	backoff     time.Duration

	leadership bool // see SetLeadership

	mu     sync.Mutex
	status map[string]*Status
	moved  chan struct{} // closed and replaced when any checkpoint moves
}

// NewRunner returns a Runner for projectors.
func NewRunner(pool *pgxpool.Pool, src Source, codec *es.Codec, log *slog.Logger, projectors ...Projector) *Runner {
	r := &Runner{pool: pool, src: src, codec: codec, log: log, projectors: projectors,
		maxAttempts: 5, backoff: 100 * time.Millisecond, status: map[string]*Status{}, moved: make(chan struct{})}
	for _, p := range projectors {
		r.status[p.Name()] = &Status{Name: p.Name(), State: StateStarting}
	}
	return r
}

// SetRetry sets how often a failing event is tried and the first backoff
// (doubled each time). Safe to call while the runner runs; batches already
// retrying keep the values they started with.
func (r *Runner) SetRetry(attempts int, backoff time.Duration) {
	r.mu.Lock()
	r.maxAttempts, r.backoff = attempts, backoff
	r.mu.Unlock()
}

// retry returns the retry settings (see SetRetry).
func (r *Runner) retry() (attempts int, backoff time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxAttempts, r.backoff
}

// Projectors returns the runner's projectors.
func (r *Runner) Projectors() []Projector { return r.projectors }

// Run runs every projector until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range r.projectors {
		wg.Add(1)
		go func(p Projector) {
			defer wg.Done()
			r.runOne(ctx, p)
		}(p)
	}
	wg.Wait()
}

func (r *Runner) set(name string, f func(s *Status)) {
	r.mu.Lock()
	f(r.status[name])
	r.mu.Unlock()
}

func (r *Runner) runOne(ctx context.Context, p Projector) {
	if !r.leadership {
		r.runLed(ctx, p)
		return
	}
	for ctx.Err() == nil {
		lctx, release, ok := r.lead(ctx, p.Name())
		if !ok {
			return
		}
		r.runLed(lctx, p)
		release()
		// Leadership lost (not ended by ctx): step back for 2 s, so that a
		// replica whose connection is healthy takes over first.
		sleep(ctx, 2*time.Second)
	}
}

// runLed runs p until ctx ends.
func (r *Runner) runLed(ctx context.Context, p Projector) {
	name := p.Name()
	for ctx.Err() == nil {
		pos, gen, err := r.prepare(ctx, p)
		if err != nil {
			r.set(name, func(s *Status) { s.State, s.Error = StateRetrying, err.Error() })
			r.log.Warn("projector cannot start; retrying", "projector", name, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		r.set(name, func(s *Status) { s.State, s.Error, s.Position = StateRunning, "", pos })
		err = r.follow(ctx, p, pos, gen)
		if ctx.Err() != nil {
			return
		}
		var failed *FailedError
		if errors.As(err, &failed) {
			r.set(name, func(s *Status) { s.State, s.Error = StateFailed, failed.Error() })
			r.log.Error("projector stopped", "projector", name, "err", failed.Error())
			_, _ = r.pool.Exec(context.Background(), `UPDATE projection_checkpoints SET status = 'failed', error = $2, updated_at = now() WHERE name = $1`, name, failed.Error())
			r.awaitRebuild(ctx, name, gen)
			continue
		}
		// Anything else (database lost, rebuild swapped the tables): start again.
		if err != nil && !errors.Is(err, errSwapped) {
			r.set(name, func(s *Status) { s.State, s.Error = StateRetrying, err.Error() })
			r.log.Warn("projector interrupted; resuming", "projector", name, "err", err)
			_, backoff := r.retry()
			sleep(ctx, backoff)
		}
	}
}

// awaitRebuild waits until a rebuild bumps the projector's generation.
func (r *Runner) awaitRebuild(ctx context.Context, name string, gen int) {
	for sleep(ctx, 2*time.Second) {
		var g int
		if err := r.pool.QueryRow(ctx, `SELECT generation FROM projection_checkpoints WHERE name = $1`, name).Scan(&g); err == nil && g != gen {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// prepare makes the checkpoint row, the schema and the tables, and returns
// the checkpoint.
func (r *Runner) prepare(ctx context.Context, p Projector) (es.Position, int, error) {
	var (
		pos es.Position
		gen int
	)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING`, p.Name()); err != nil {
			return err
		}
		var c, pr int64
		if err := tx.QueryRow(ctx, `SELECT commit_pos, prepare_pos, generation FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&c, &pr, &gen); err != nil {
			return err
		}
		pos = es.Position{Commit: uint64(c), Prepare: uint64(pr)}
		return setupIn(ctx, tx, p, Schema(p.Name()))
	})
	return pos, gen, err
}

func setupIn(ctx context.Context, tx pgx.Tx, p Projector, schema string) error {
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
		return err
	}
	return p.Setup(ctx, tx)
}

var errSwapped = errors.New("projections: checkpoint moved by a rebuild")

// FailedError stops a projector: an event that could not be decoded or
// applied after every retry.
type FailedError struct {
	Projector string
	Stream    string
	Version   int64
	Type      string
	Err       error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("projector %s stopped at %s@%d (%s): %v", e.Projector, e.Stream, e.Version, e.Type, e.Err)
}

func (e *FailedError) Unwrap() error { return e.Err }

// skipFlushEvery is how long a projector's checkpoint may stay behind the
// events it skipped (see follow).
const skipFlushEvery = time.Second

func (r *Runner) follow(ctx context.Context, p Projector, pos es.Position, gen int) error {
	types, want := wanted(p)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := readAhead(ctx, r.src.SubscribeTypes(ctx, pos, types))
	// stored is the checkpoint as committed. A batch of events the
	// projector does not handle moves pos without a transaction: there is
	// nothing to apply, and a crash before the checkpoint catches up only
	// skips them again. The checkpoint follows with the next applied batch,
	// or after skipFlushEvery. With leadership (several processes) every
	// move is committed at once, since the other processes read a
	// projector's position from its checkpoint.
	stored, skippedSince := pos, time.Time{}
	_, raw := p.(Raw)
	for {
		var wait time.Duration = -1
		if stored != pos {
			wait = max(0, skipFlushEvery-time.Since(skippedSince))
		}
		batch, err := next(wait)
		if errors.Is(err, errIdle) {
			if err := r.commit(ctx, p, stored, pos, nil); err != nil {
				return err
			}
			stored = pos
			continue
		}
		if err != nil {
			return err
		}
		to := batch[len(batch)-1].Position
		var evs []es.Event
		if raw {
			evs = rawEvents(batch)
		} else {
			evs, err = decodeWanted(ctx, r.codec, p, batch, want)
		}
		if err != nil {
			var de *es.DecodeError
			if errors.As(err, &de) {
				// Apply what precedes the undecodable event, then stop there.
				for i, b := range batch {
					if b.StreamID == de.Stream && b.Version == de.Version {
						if i > 0 {
							good, _ := decodeWanted(ctx, r.codec, p, batch[:i], want)
							if err := r.commit(ctx, p, stored, batch[i-1].Position, good); err != nil {
								return err
							}
						}
						break
					}
				}
				return &FailedError{Projector: p.Name(), Stream: de.Stream, Version: de.Version, Type: de.Type, Err: de.Err}
			}
			return err
		}
		if len(evs) == 0 && !r.leadership && !raw {
			if stored == pos {
				skippedSince = time.Now()
			}
		} else {
			if err := r.applyWithRetry(ctx, p, stored, to, evs); err != nil {
				return err
			}
			stored = to
		}
		pos = to
		r.set(p.Name(), func(s *Status) { s.State, s.Error, s.Position = StateRunning, "", pos })
		r.signal()
	}
}

// errIdle: no batch came within the wait given to readAhead's next.
var errIdle = errors.New("projections: no batch yet")

// readAhead reads the subscription's batches one ahead: the next batch is
// fetched (PostgreSQL's work) while the current one is decoded and applied
// (this process's), which on a catch-up keeps both busy. Cancelling ctx
// stops it; the batch it holds then is dropped (the caller starts again
// from its checkpoint).
func readAhead(ctx context.Context, sub es.Subscription) func(wait time.Duration) ([]es.RecordedEvent, error) {
	type result struct {
		batch []es.RecordedEvent
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		for {
			batch, err := sub.Next(ctx)
			select {
			case ch <- result{batch, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	// next waits for the next batch; with wait ≥ 0, at most that long
	// (errIdle).
	return func(wait time.Duration) ([]es.RecordedEvent, error) {
		var timeout <-chan time.Time
		if wait >= 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case r := <-ch:
			return r.batch, r.err
		case <-timeout:
			return nil, errIdle
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// applyWithRetry applies evs and moves the checkpoint from `from` to `to`
// (at or after the last of evs: skipped events may follow it).
func (r *Runner) applyWithRetry(ctx context.Context, p Projector, from, to es.Position, evs []es.Event) error {
	err := r.commit(ctx, p, from, to, evs)
	if err == nil || errors.Is(err, errSwapped) || lostDatabase(err) || ctx.Err() != nil {
		return err
	}
	// Isolate the failing event: one event per transaction, each retried.
	maxAttempts, backoff := r.retry()
	for _, e := range evs {
		delay := backoff
		for attempt := 1; ; attempt++ {
			err = r.commit(ctx, p, from, e.Position, []es.Event{e})
			if err == nil {
				break
			}
			if errors.Is(err, errSwapped) || lostDatabase(err) || ctx.Err() != nil {
				// The database went away: not this event's fault. The
				// runner resumes from the checkpoint once it is back,
				// however long that takes.
				return err
			}
			if attempt >= maxAttempts {
				return &FailedError{Projector: p.Name(), Stream: e.StreamID, Version: e.Version, Type: e.Type, Err: err}
			}
			r.set(p.Name(), func(s *Status) { s.State, s.Error = StateRetrying, err.Error() })
			r.log.Warn("projector retrying event", "projector", p.Name(), "stream", e.StreamID, "version", e.Version, "attempt", attempt, "err", err)
			if !sleep(ctx, delay) {
				return ctx.Err()
			}
			delay *= 2
		}
		from = e.Position
	}
	return r.commit(ctx, p, from, to, nil)
}

// commit applies evs and moves the checkpoint from `from` to `to` in one
// transaction. If the stored checkpoint is not `from` (a rebuild swapped the
// tables), nothing is written and errSwapped is returned. With no events it
// only moves the checkpoint (past skipped events).
func (r *Runner) commit(ctx context.Context, p Projector, from, to es.Position, evs []es.Event) error {
	if from == to {
		return nil
	}
	err := r.commitTx(ctx, p, from, to, evs)
	if w, ok := r.src.(waker); ok && err == nil {
		// This transaction may have been what held other projectors'
		// reads back (the xmin horizon): let them look again.
		w.Wake()
	}
	return err
}

// waker is a Source that is told when a transaction of this process
// committed (postgres.Store.Wake).
type waker interface{ Wake() }

func (r *Runner) commitTx(ctx context.Context, p Projector, from, to es.Position, evs []es.Event) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var c, pr int64
		if err := tx.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&c, &pr); err != nil {
			return err
		}
		if (es.Position{Commit: uint64(c), Prepare: uint64(pr)}) != from {
			return errSwapped
		}
		if len(evs) > 0 {
			if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{Schema(p.Name())}.Sanitize()+`, public`); err != nil {
				return err
			}
			if err := p.Apply(ctx, tx, evs); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET commit_pos = $2, prepare_pos = $3, status = 'running', error = NULL, updated_at = now() WHERE name = $1`,
			p.Name(), int64(to.Commit), int64(to.Prepare))
		return err
	})
}

func (r *Runner) signal() {
	r.mu.Lock()
	close(r.moved)
	r.moved = make(chan struct{})
	r.mu.Unlock()
}

// WaitFor blocks until every projector has processed the log up to pos (or
// stopped failing at an earlier event, which is an error).
func (r *Runner) WaitFor(ctx context.Context, pos es.Position) error {
	return r.WaitForOnly(ctx, pos, nil)
}

// WaitForOnly is WaitFor for the projectors that only(name) accepts (nil:
// every projector).
func (r *Runner) WaitForOnly(ctx context.Context, pos es.Position, only func(name string) bool) error {
	for {
		r.mu.Lock()
		ch := r.moved
		done := true
		for name, s := range r.status {
			if only != nil && !only(name) {
				continue
			}
			if s.State == StateFailed {
				r.mu.Unlock()
				return fmt.Errorf("projections: %s", s.Error)
			}
			if s.Position.Less(pos) {
				done = false
			}
		}
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Statuses reports every projector with its lag behind the head of the log.
func (r *Runner) Statuses(ctx context.Context) []Status {
	r.mu.Lock()
	out := make([]Status, 0, len(r.status))
	for _, s := range r.status {
		out = append(out, *s)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := range out {
		out[i].Checkpoint = out[i].Position.String()
		n, first, err := r.src.Behind(ctx, out[i].Position, 1_000_000)
		if err != nil {
			continue
		}
		out[i].LagEvents = n
		if n > 0 {
			out[i].LagSeconds = time.Since(first).Seconds()
		}
	}
	return out
}

// Healthy reports whether every projector is running (not failed).
func (r *Runner) Healthy() (bool, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var problems []string
	for _, s := range r.status {
		if s.State == StateFailed {
			problems = append(problems, s.Error)
		}
	}
	sort.Strings(problems)
	return len(problems) == 0, problems
}
