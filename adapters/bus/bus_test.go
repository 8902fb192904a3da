package bus_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

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

	s := &sink{failures: 2, got: map[string]int{}, to: map[int]string{}}
	b, err := bus.New(bus.Config{Backend: backend, NATSURL: natsURL, Pool: pool, Store: store, Codec: codec, Log: log, RetryInterval: 10 * time.Millisecond},
		[]bus.Handler{{Name: "mailer", Types: []string{"test.mailed"}, Handle: s.handle}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := projections.NewRunner(pool, store, codec, log, b.Outbox())
	go r.Run(ctx)
	go func() { _ = b.Run(ctx) }()

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
}

func TestBusOverPostgres(t *testing.T) { run(t, "sql", "") }

func TestBusOverNATSJetStream(t *testing.T) { run(t, "nats", natstest.Start(t)) }
