package projections_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type ticked struct {
	N int `json:"n"`
}

func (ticked) EventType() string { return "test.ticked" }

// counter keeps one row per stream with the number of events and their sum;
// it fails on the event whose N equals failOn (when set).
type counter struct {
	failOn  int
	applied atomic.Int64
}

func (*counter) Name() string { return "counter" }

func (*counter) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS counts (stream text PRIMARY KEY, n bigint NOT NULL, total bigint NOT NULL)`)
	return err
}

func (c *counter) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	b := &pgx.Batch{}
	for _, e := range evs {
		t := e.Payload.(ticked)
		if c.failOn != 0 && t.N == c.failOn {
			return fmt.Errorf("cannot apply n=%d", t.N)
		}
		b.Queue(`INSERT INTO counts VALUES ($1, 1, $2) ON CONFLICT (stream) DO UPDATE SET n = counts.n + 1, total = counts.total + $2`, e.StreamID, t.N)
	}
	c.applied.Add(int64(len(evs)))
	return tx.SendBatch(ctx, b).Close()
}

type env struct {
	pool  *pgxpool.Pool
	store *postgres.Store
	codec *es.Codec
	s     commands.Streams
}

func newEnv(t *testing.T) env {
	pool := pgtest.Pool(t)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[ticked](reg, 1)
	store := postgres.NewStore(pool, commands.SystemClock{}, postgres.WithPollInterval(5*time.Millisecond))
	codec := es.NewCodec(reg, sealer)
	return env{pool, store, codec, commands.Streams{Store: store, Codec: codec}}
}

func (e env) tick(t *testing.T, stream string, from, to int) es.Position {
	var last es.Position
	for i := from; i <= to; i++ {
		r, err := e.s.Append(context.Background(), stream, -1, ticked{N: i})
		if err != nil {
			t.Error(err) // tick also runs in goroutines, where Fatal is not allowed
			return last
		}
		last = r.Position
	}
	return last
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func counts(t *testing.T, pool *pgxpool.Pool, stream string) (n, total int64) {
	err := pool.QueryRow(context.Background(), `SELECT n, total FROM proj_counter.counts WHERE stream = $1`, stream).Scan(&n, &total)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return
}

func TestProjectorAppliesEachEventOnceAcrossRestarts(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 300)
	ctx, cancel := context.WithCancel(context.Background())
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), &counter{})
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	// Stop it while more events arrive, then start a new runner (a restart).
	go func() { e.tick(t, "b", 1, 200) }()
	time.Sleep(30 * time.Millisecond)
	cancel()
	<-done
	last := e.tick(t, "a", 301, 400)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	r2 := projections.NewRunner(e.pool, e.store, e.codec, quiet(), &counter{})
	go r2.Run(ctx2)
	// Head only covers transactions older than every open one (b may still
	// be appending), so wait until it passes our last append.
	var head es.Position
	for i := 0; i < 500; i++ {
		if head, _ = e.store.Head(context.Background()); !head.Less(last) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if head.Less(last) {
		t.Fatal("head never reached the last append")
	}
	wctx, wcancel := context.WithTimeout(ctx2, 30*time.Second)
	defer wcancel()
	if err := r2.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	// b may still be appending; wait for its 200 events.
	for i := 0; i < 200; i++ {
		if n, _ := counts(t, e.pool, "b"); n == 200 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, total := counts(t, e.pool, "a"); n != 400 || total != 400*401/2 {
		t.Fatalf("stream a: n=%d total=%d, want 400 and %d", n, total, 400*401/2)
	}
	if n, total := counts(t, e.pool, "b"); n != 200 || total != 200*201/2 {
		t.Fatalf("stream b: n=%d total=%d, want 200 and %d", n, total, 200*201/2)
	}
}

func TestFailingEventStopsProjectorAndSaysWhere(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 10)
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), &counter{failOn: 7})
	r.SetRetry(3, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, problems := r.Healthy()
		if !ok {
			if len(problems) != 1 || !strings.Contains(problems[0], "a@7") || !strings.Contains(problems[0], "test.ticked") || !strings.Contains(problems[0], "cannot apply n=7") {
				t.Fatalf("problem: %v", problems)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("projector did not stop on the failing event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Events before the failing one are applied, none after: nothing skipped.
	if n, total := counts(t, e.pool, "a"); n != 6 || total != 21 {
		t.Fatalf("applied n=%d total=%d, want the 6 events before the failure", n, total)
	}
	var status, msg string
	_ = e.pool.QueryRow(ctx, `SELECT status, error FROM projection_checkpoints WHERE name = 'counter'`).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "a@7") {
		t.Fatalf("stored status %q %q", status, msg)
	}
}

func TestUndecodableEventStopsReplayWithItsName(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 3)
	if _, err := e.store.Append(context.Background(), "a", 3, es.Metadata{}, es.EventData{ID: es.NewEventID(), Type: "test.from_the_future", SchemaVersion: 1, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	e.tick(t, "a", 5, 6)
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), &counter{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	for i := 0; ; i++ {
		if ok, problems := r.Healthy(); !ok {
			if !strings.Contains(problems[0], "a@4") || !strings.Contains(problems[0], "test.from_the_future") {
				t.Fatalf("problem: %v", problems)
			}
			break
		}
		if i > 1000 {
			t.Fatal("no failure reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _ := counts(t, e.pool, "a"); n != 3 {
		t.Fatalf("applied %d events, want the 3 before the undecodable one", n)
	}
}

func TestRebuildSwapsWhileServing(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 500)
	live := &counter{}
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), live)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	head, _ := e.store.Head(ctx)
	if err := r.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	// Damage the live view, as a bug would; the rebuild must repair it while
	// queries keep being answered.
	if _, err := e.pool.Exec(ctx, `UPDATE proj_counter.counts SET n = 0`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	queryErrs := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				queryErrs <- nil
				return
			default:
			}
			var n int64
			if err := e.pool.QueryRow(ctx, `SELECT coalesce(sum(n),0) FROM proj_counter.counts`).Scan(&n); err != nil {
				queryErrs <- err
				return
			}
		}
	}()
	go func() { e.tick(t, "b", 1, 100) }()
	if _, err := projections.Rebuild(ctx, e.pool, e.store, e.codec, &counter{}, nil); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-queryErrs; err != nil {
		t.Fatalf("a query failed during the rebuild: %v", err)
	}
	for i := 0; i < 300; i++ {
		if n, _ := counts(t, e.pool, "a"); n == 500 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := counts(t, e.pool, "a"); n != 500 {
		t.Fatalf("after rebuild n=%d, want 500", n)
	}
	for i := 0; i < 300; i++ {
		if n, _ := counts(t, e.pool, "b"); n == 100 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, total := counts(t, e.pool, "b"); n != 100 || total != 5050 {
		t.Fatalf("events during and after the rebuild: n=%d total=%d", n, total)
	}
	var gen int
	_ = e.pool.QueryRow(ctx, `SELECT generation FROM projection_checkpoints WHERE name = 'counter'`).Scan(&gen)
	if gen != 2 {
		t.Fatalf("generation %d, want 2", gen)
	}
}

// selective is a counter that declares the one type it handles.
type selective struct{ counter }

func (*selective) EventTypes() []string { return projections.TypesOf(ticked{}) }

// TestSelectiveProjectorSkipsOtherTypesUndecoded: events of a type the codec
// cannot even decode sit between and after the ticks. A projector that
// declares its types never decodes them (it would stop on the first), applies
// every tick once, and its checkpoint moves past the trailing skipped events,
// so its lag is zero. A rebuild skips them too.
func TestSelectiveProjectorSkipsOtherTypesUndecoded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alien := func(stream string, n int) {
		evs := make([]es.EventData, n)
		for i := range evs {
			evs[i] = es.EventData{ID: es.NewEventID(), Type: "test.unregistered", SchemaVersion: 1, Data: []byte(`{"not":"decodable"}`)}
		}
		if _, err := e.store.Append(ctx, stream, es.Any, es.Metadata{}, evs...); err != nil {
			t.Fatal(err)
		}
	}
	alien("x", 1500) // more than one read window of nothing wanted
	e.tick(t, "a", 1, 50)
	alien("y", 10)
	e.tick(t, "a", 51, 100)
	alien("z", 1200)
	head, _ := e.store.Head(ctx)

	p := &selective{}
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), p)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := r.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	if n, total := counts(t, e.pool, "a"); n != 100 || total != 5050 {
		t.Fatalf("applied n=%d total=%d, want 100 and 5050", n, total)
	}
	if got := p.applied.Load(); got != 100 {
		t.Fatalf("Apply saw %d events, want only the 100 ticks", got)
	}
	for _, s := range r.Statuses(ctx) {
		if s.LagEvents != 0 || s.State != projections.StateRunning {
			t.Fatalf("status %+v: want running with no lag after trailing skipped events", s)
		}
	}
	// Trailing skipped events move the position at once (above) and the
	// stored checkpoint within about a second (no transaction per skipped
	// batch).
	var c, pr int64
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := e.pool.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM projection_checkpoints WHERE name = 'counter'`).Scan(&c, &pr); err != nil {
			t.Fatal(err)
		}
		if (es.Position{Commit: uint64(c), Prepare: uint64(pr)}) == head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored checkpoint %d/%d, want the head %v within 3 s", c, pr, head)
		}
	}

	rb := &selective{}
	if _, err := projections.Rebuild(ctx, e.pool, e.store, e.codec, rb, nil); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if got := rb.applied.Load(); got != 100 {
		t.Fatalf("rebuild applied %d events, want 100", got)
	}
	if n, total := counts(t, e.pool, "a"); n != 100 || total != 5050 {
		t.Fatalf("after rebuild n=%d total=%d, want 100 and 5050", n, total)
	}
}

// TestRebuildCancelledLeavesLiveTablesUntouched: Ctrl-C during a rebuild
// (ctx cancelled after the first batch) returns an error, and the live view,
// the checkpoint and its generation are as before; a later rebuild works.
func TestRebuildCancelledLeavesLiveTablesUntouched(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.tick(t, "a", 1, 12000) // three rebuild batches
	live := &selective{}
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), live)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	head, _ := e.store.Head(ctx)
	if err := r.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	state := func() (c, p int64, gen int) {
		if err := e.pool.QueryRow(ctx, `SELECT commit_pos, prepare_pos, generation FROM projection_checkpoints WHERE name = 'counter'`).Scan(&c, &p, &gen); err != nil {
			t.Fatal(err)
		}
		return
	}
	c0, p0, g0 := state()
	if total, err := projections.ToReplay(ctx, e.pool, &selective{}); err != nil || total != 12000 {
		t.Fatalf("ToReplay = %d, %v; want 12000", total, err)
	}
	cctx, stop := context.WithCancel(ctx)
	var calls []int64
	_, err := projections.Rebuild(cctx, e.pool, e.store, e.codec, &selective{}, func(n int64) {
		calls = append(calls, n)
		stop()
	})
	if err == nil || len(calls) != 1 || calls[0] != 5000 {
		t.Fatalf("cancelled rebuild: err %v, progress %v", err, calls)
	}
	if c, p, g := state(); c != c0 || p != p0 || g != g0 {
		t.Fatalf("checkpoint moved by a cancelled rebuild: %d/%d gen %d, was %d/%d gen %d", c, p, g, c0, p0, g0)
	}
	if n, total := counts(t, e.pool, "a"); n != 12000 || total != 12000*12001/2 {
		t.Fatalf("live view changed: n=%d total=%d", n, total)
	}
	if _, err := projections.Rebuild(ctx, e.pool, e.store, e.codec, &selective{}, nil); err != nil {
		t.Fatalf("rebuild after a cancelled one: %v", err)
	}
	if _, _, g := state(); g != g0+1 {
		t.Fatalf("generation %d after the rebuild, want %d", g, g0+1)
	}
}

// Two rebuilds of one projector must not share proj_<name>__next: while one
// runs, a second fails at once with RebuildRunningError and the first
// finishes intact; afterwards a rebuild runs again.
func TestRebuildIsExclusive(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 50)
	ctx := context.Background()
	var second error
	calls := 0
	_, err := projections.Rebuild(ctx, e.pool, e.store, e.codec, &counter{}, func(int64) {
		calls++
		if calls == 1 {
			_, second = projections.Rebuild(ctx, e.pool, e.store, e.codec, &counter{}, nil)
		}
	})
	if err != nil {
		t.Fatalf("first rebuild: %v", err)
	}
	var running *projections.RebuildRunningError
	if !errors.As(second, &running) || running.Projector != "counter" || !strings.Contains(second.Error(), "proj_counter__next") {
		t.Fatalf("second rebuild during the first: %v", second)
	}
	if n, _ := counts(t, e.pool, "a"); n != 50 {
		t.Fatalf("after the rebuild n=%d, want 50", n)
	}
	if _, err := projections.Rebuild(ctx, e.pool, e.store, e.codec, &counter{}, nil); err != nil {
		t.Fatalf("rebuild after the first ended: %v", err)
	}
}

// SetRetry may be called while the runner runs (the README says the Runner is
// safe for concurrent use): run with -race to see it. The new settings take
// effect: a failing event stops the projector after the attempts set last.
func TestSetRetryWhileRunning(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 10)
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), &counter{failOn: 7})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	r.SetRetry(3, time.Millisecond)
	tuning := make(chan struct{})
	go func() { // a caller tuning the runner while it retries
		defer close(tuning)
		for i := 0; ctx.Err() == nil; i++ {
			r.SetRetry(3, time.Duration(1+i%2)*time.Millisecond)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for ok, _ := r.Healthy(); ok; ok, _ = r.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("projector did not stop on the failing event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	<-tuning
}

// TestLeadershipOneActiveFailoverWithinSeconds: two runners on two pools (two
// processes) with leadership on. Only one applies events; the other mirrors
// the checkpoint (WaitFor works in both). When the leader's lock connection
// dies, the other takes over within 5 s, and every event is applied exactly
// once across both.
func TestLeadershipOneActiveFailoverWithinSeconds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	otherPool, err := pgxpool.NewWithConfig(ctx, e.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer otherPool.Close()
	pa, pb := &selective{}, &selective{}
	ra := projections.NewRunner(e.pool, e.store, e.codec, quiet(), pa)
	rb := projections.NewRunner(otherPool, e.store, e.codec, quiet(), pb)
	ra.SetLeadership(true)
	rb.SetLeadership(true)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range []*projections.Runner{ra, rb} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(rctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	wait := func(r *projections.Runner, head es.Position) {
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		if err := r.WaitFor(wctx, head); err != nil {
			t.Fatal(err)
		}
	}
	head := e.tick(t, "a", 1, 200)
	wait(ra, head)
	wait(rb, head)
	if a, b := pa.applied.Load(), pb.applied.Load(); a+b != 200 || (a != 0 && b != 0) {
		t.Fatalf("applied %d and %d: want 200 by one runner only", a, b)
	}
	leader, follower := ra, rb
	if pb.applied.Load() > 0 {
		leader, follower = rb, ra
	}
	state := func(r *projections.Runner) string { return r.Statuses(ctx)[0].State }
	if state(leader) != projections.StateRunning || state(follower) != projections.StateStandby {
		t.Fatalf("leader %s, follower %s", state(leader), state(follower))
	}
	// The leader's lock connection dies (as when its process is killed).
	var killed bool
	if err := e.pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtextextended('gantry projector counter', 0) & 4294967295)::oid`).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the lock's connection: %v %v", killed, err)
	}
	lost := time.Now()
	more := make(chan es.Position)
	go func() { more <- e.tick(t, "a", 201, 400) }()
	for state(follower) != projections.StateRunning {
		if time.Since(lost) > 5*time.Second {
			t.Fatalf("no failover within 5 s: follower %s", state(follower))
		}
		time.Sleep(20 * time.Millisecond)
	}
	head = <-more
	wait(follower, head)
	if n, total := counts(t, e.pool, "a"); n != 400 || total != 400*401/2 {
		t.Fatalf("view n=%d total=%d, want 400 and %d", n, total, 400*401/2)
	}
	if a, b := pa.applied.Load(), pb.applied.Load(); a+b < 400 {
		t.Fatalf("applied %d + %d, want at least 400", a, b)
	}
}

// cutter is the counter projector whose first Apply takes the database
// away from its runner in the middle of the batch: cut closes the runner's
// connections and refuses new ones for a while (as a PostgreSQL restart
// does), and the batch fails on its dead connection.
type cutter struct {
	*counter
	cut  func()
	once sync.Once
}

func (c *cutter) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	first := false
	c.once.Do(func() { c.cut(); first = true })
	if first {
		_, err := tx.Exec(ctx, `SELECT 1`)
		if err == nil {
			return errors.New("the connection survived the cut")
		}
		return err
	}
	return c.counter.Apply(ctx, tx, evs)
}

// TestDatabaseOutageDuringCommitDoesNotStopProjector: the database goes
// away (connections terminated, new ones refused for 3 s: longer than all
// retries of one event take) while a projector commits a batch. That is
// not the event's fault: the projector must not stop on it as on a bad
// event, but resume from its checkpoint once the database is back and apply
// every event exactly once. (Before the fix, the lost connection sent the
// batch into one-event-at-a-time retries, which ran out during the outage
// and stopped the projector for good: TestDatabaseStoppedUnderLoad's
// "projectors did not catch up".)
func TestDatabaseOutageDuringCommitDoesNotStopProjector(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := e.pool.Config().Copy()
	cfg.ConnConfig.RuntimeParams["application_name"] = "outage-runner"
	var down atomic.Bool
	dialer := &net.Dialer{}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return dialer.DialContext(ctx, network, addr)
	}
	runnerPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer runnerPool.Close()
	var cutAt time.Time
	p := &cutter{counter: &counter{}, cut: func() {
		down.Store(true)
		cutAt = time.Now()
		if _, err := e.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'outage-runner'`); err != nil {
			t.Error(err)
		}
		time.AfterFunc(3*time.Second, func() { down.Store(false) })
	}}
	r := projections.NewRunner(runnerPool, e.store, e.codec, quiet(), p)
	r.SetRetry(5, 100*time.Millisecond) // one event's retries take 1.5 s: less than the outage
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	head := e.tick(t, "a", 1, 50)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := r.WaitFor(wctx, head); err != nil {
		t.Fatalf("after the outage: %v (state %+v)", err, r.Statuses(ctx))
	}
	if cutAt.IsZero() {
		t.Fatal("the database was never cut")
	}
	if since := time.Since(cutAt); since < 3*time.Second {
		t.Fatalf("caught up %s after the cut, before the database was back", since)
	}
	if st := r.Statuses(ctx)[0]; st.State != projections.StateRunning {
		t.Fatalf("state %s (%s), want running", st.State, st.Error)
	}
	if n, total := counts(t, e.pool, "a"); n != 50 || total != 50*51/2 {
		t.Fatalf("view n=%d total=%d, want 50 and %d", n, total, 50*51/2)
	}
}

// rawCounter is a Raw projector: it counts the events it is handed and
// records whether any came decoded.
type rawCounter struct {
	seen    atomic.Int64
	decoded atomic.Int64
}

func (*rawCounter) Name() string                        { return "raw_counter" }
func (*rawCounter) Setup(context.Context, pgx.Tx) error { return nil }
func (*rawCounter) RawEvents()                          {}
func (c *rawCounter) Apply(_ context.Context, _ pgx.Tx, evs []es.Event) error {
	for _, e := range evs {
		if e.Payload != nil {
			c.decoded.Add(1)
		}
	}
	c.seen.Add(int64(len(evs)))
	return nil
}

// TestRawProjectorGetsEveryEventUndecoded: a Raw projector (the
// transparency log's sequencer) is handed every event with its stored bytes
// and no payload, and an event no codec can decode does not stop it.
func TestRawProjectorGetsEveryEventUndecoded(t *testing.T) {
	e := newEnv(t)
	e.tick(t, "a", 1, 3)
	if _, err := e.store.Append(context.Background(), "a", 3, es.Metadata{}, es.EventData{ID: es.NewEventID(), Type: "test.from_the_future", SchemaVersion: 1, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	head := e.tick(t, "a", 5, 6)
	p := &rawCounter{}
	r := projections.NewRunner(e.pool, e.store, e.codec, quiet(), p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := r.WaitFor(wctx, head); err != nil {
		t.Fatalf("the raw projector did not pass the undecodable event: %v", err)
	}
	if p.seen.Load() != 6 || p.decoded.Load() != 0 {
		t.Fatalf("handed %d events, %d decoded; want 6, none decoded", p.seen.Load(), p.decoded.Load())
	}
}
