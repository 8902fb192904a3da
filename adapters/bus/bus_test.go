package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/test/natstest"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type mailed struct {
	To domain.Personal[string] `json:"to"`
	N  int                     `json:"n"`
}

func (mailed) EventType() string { return "test.mailed" }

type ignored struct{}

func (ignored) EventType() string { return "test.ignored" }

// sink records deliveries; it fails the first `failures` calls.
type sink struct {
	mu       sync.Mutex
	failures int
	got      map[string]int // event id → deliveries
	to       map[int]string
	msgIDs   map[string]string // event id → integration message ID
}

func (s *sink) handle(ctx context.Context, ev es.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		return errors.New("smtp down")
	}
	m := ev.Payload.(mailed)
	s.got[ev.ID.String()]++
	if s.msgIDs != nil {
		s.msgIDs[ev.ID.String()] = bus.MessageID(ctx)
	}
	if !m.To.Erased {
		s.to[m.N] = m.To.Value
	} else {
		s.to[m.N] = "(erased)"
	}
	return nil
}

var logOut io.Writer = io.Discard

func run(t *testing.T, backend, natsURL string) {
	pool := pgtest.Pool(t)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[mailed](reg, 1)
	es.Register[ignored](reg, 1)
	store := postgres.NewStore(pool, commands.SystemClock{}, postgres.WithPollInterval(5*time.Millisecond))
	codec := es.NewCodec(reg, sealer)
	streams := commands.Streams{Store: store, Codec: codec}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))

	s := &sink{failures: 2, got: map[string]int{}, to: map[int]string{}, msgIDs: map[string]string{}}
	b, err := bus.New(bus.Config{Backend: backend, NATSURL: natsURL, Pool: pool, Store: store, Codec: codec, Log: log, RetryInterval: 10 * time.Millisecond},
		[]bus.Handler{{Name: "mailer", Types: []string{"test.mailed"}, Handle: s.handle}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(pool, store, codec, log, b.Outbox())
	go r.Run(ctx)
	go func() {
		// A bus that cannot start shows here, not as "delivered 0".
		if err := b.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("bus stopped: %v", err)
		}
	}()

	const n = 20
	for i := 1; i <= n; i++ {
		if _, err := streams.Append(ctx, "app-"+string(rune('a'+i)), 0, mailed{To: domain.Seal("app-"+string(rune('a'+i)), "customer@example.jp"), N: i}, ignored{}); err != nil {
			t.Fatal(err)
		}
	}
	// An append that fails (wrong version) publishes nothing.
	if _, err := streams.Append(ctx, "app-b", 0, mailed{To: domain.Seal("app-b", "x@example.jp"), N: 999}); !errors.Is(err, es.ErrWrongExpectedVersion) {
		t.Fatalf("expected a version conflict, got %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		k := len(s.got)
		s.mu.Unlock()
		if k == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: delivered %d of %d", backend, k, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // would a duplicate or the failed append show up?
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.got {
		if c != 1 {
			t.Fatalf("event %s delivered %d times", id, c)
		}
	}
	if _, ok := s.to[999]; ok {
		t.Fatal("a message was delivered for an append that did not commit")
	}
	if s.to[3] != "customer@example.jp" {
		t.Fatalf("handler got %q", s.to[3])
	}
	// Each delivery carried its stable message ID and was recorded.
	var recorded int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bus.deliveries WHERE handler = 'mailer'`).Scan(&recorded); err != nil || recorded != n {
		t.Fatalf("%d deliveries recorded, want %d (%v)", recorded, n, err)
	}
	var someEvent, someMsg string
	for ev, id := range s.msgIDs {
		if id == "" {
			t.Fatalf("event %s delivered without a message ID", ev)
		}
		someEvent, someMsg = ev, id
	}
	// A redelivery of a recorded message (as after a crash between the
	// sink's yes and the ack) does not reach the sink again.
	var payload []byte
	evs, err := store.ReadAll(ctx, es.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.ID.String() == someEvent {
			payload, _ = json.Marshal(bus.Ref{EventID: e.ID.String(), Stream: e.StreamID, Version: e.Version, Type: e.Type})
		}
	}
	s.mu.Unlock()
	if _, err := pool.Exec(ctx, `INSERT INTO bus.retries (handler, uuid, payload, metadata, attempts, due_at) VALUES ('mailer', $1, $2, '{}', 1, now())`, someMsg, payload); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM bus.retries`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the parked redelivery was not taken")
		}
	}
	s.mu.Lock()
	if c := s.got[someEvent]; c != 1 {
		t.Fatalf("a recorded message reached the sink %d times", c)
	}
}

func TestBusOverPostgres(t *testing.T) { run(t, "sql", "") }

func TestBusOverNATSJetStream(t *testing.T) { run(t, "nats", natstest.Start(t)) }

// unavailable is how a sink says "down for now" (mail.UnavailableError).
type unavailable struct{}

func (unavailable) Error() string   { return "sink down" }
func (unavailable) Temporary() bool { return true }

// counter counts calls per event type and fails as told.
type counter struct {
	mu    sync.Mutex
	calls int
	fail  func(call int) error
}

func (c *counter) handle(context.Context, es.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.fail(c.calls)
}

func (c *counter) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// failures: a sink that is unavailable for longer than MaxRetries attempts
// gets its message in the end, exactly once; a handler that fails for
// another reason stops after MaxRetries attempts and the message goes to the
// poison queue. Nothing is left parked.
func failures(t *testing.T, backend, natsURL string) {
	pool := pgtest.Pool(t)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[mailed](reg, 1)
	es.Register[ignored](reg, 1)
	store := postgres.NewStore(pool, commands.SystemClock{}, postgres.WithPollInterval(5*time.Millisecond))
	codec := es.NewCodec(reg, sealer)
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := prometheus.NewRegistry()

	flaky := &counter{fail: func(call int) error {
		if call <= 12 {
			return fmt.Errorf("smtp: %w", unavailable{})
		}
		return nil
	}}
	broken := &counter{fail: func(int) error { return errors.New("template bug") }}
	b, err := bus.New(bus.Config{Backend: backend, NATSURL: natsURL, Pool: pool, Store: store, Codec: codec, Log: log, Metrics: metrics,
		MaxRetries: 3, RetryInterval: 5 * time.Millisecond, MaxRetryInterval: 20 * time.Millisecond},
		[]bus.Handler{{Name: "flaky", Types: []string{"test.mailed"}, Handle: flaky.handle}, {Name: "broken", Types: []string{"test.ignored"}, Handle: broken.handle}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go projections.NewRunner(pool, store, codec, log, b.Outbox()).Run(ctx)
	go func() {
		// A bus that cannot start shows here, not as "delivered 0".
		if err := b.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("bus stopped: %v", err)
		}
	}()
	if _, err := (commands.Streams{Store: store, Codec: codec}).Append(ctx, "app-x", 0, mailed{To: domain.Seal("app-x", "c@example.jp"), N: 1}, ignored{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for flaky.n() < 13 || broken.n() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: flaky called %d times, broken %d", backend, flaky.n(), broken.n())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // any further call?
	if flaky.n() != 13 || broken.n() != 3 {
		t.Fatalf("%s: flaky called %d times (want 13), broken %d (want 3)", backend, flaky.n(), broken.n())
	}
	poisoned := map[string]float64{}
	mfs, _ := metrics.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "gantry_bus_poisoned_total" {
			for _, m := range mf.GetMetric() {
				poisoned[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if poisoned["broken"] != 1 || poisoned["flaky"] != 0 {
		t.Fatalf("%s: poisoned %v", backend, poisoned)
	}
	var parked int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bus.retries`).Scan(&parked); err != nil || parked != 0 {
		t.Fatalf("%s: %d messages left parked (%v)", backend, parked, err)
	}
}

func TestBusFailuresOverPostgres(t *testing.T) { failures(t, "sql", "") }

func TestBusFailuresOverNATSJetStream(t *testing.T) { failures(t, "nats", natstest.Start(t)) }
