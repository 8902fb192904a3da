package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// next runs sub.Next in the background and answers with its batch.
func next(ctx context.Context, sub es.Subscription) <-chan []es.RecordedEvent {
	ch := make(chan []es.RecordedEvent, 1)
	go func() {
		evs, _ := sub.Next(ctx)
		ch <- evs
	}()
	return ch
}

func appendOne(t *testing.T, s *postgres.Store, stream string) {
	t.Helper()
	if _, err := s.Append(context.Background(), stream, es.NoStream, es.Metadata{},
		es.EventData{ID: es.NewEventID(), Type: "test.ticked", SchemaVersion: 1, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
}

// TestShareWakesAcrossProcesses: three stores on one database stand for
// three processes, with a poll interval of an hour. A subscription in B
// does not see C's append (C does not share wakes) for as long as it
// waits, and sees A's (A and B share wakes) at once, with C's before it.
func TestShareWakesAcrossProcesses(t *testing.T) {
	url := pgtest.URL(t)
	pool := func() *pgxpool.Pool {
		p, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	a := postgres.NewStore(pool(), wallClock{}, postgres.WithPollInterval(time.Hour))
	b := postgres.NewStore(pool(), wallClock{}, postgres.WithPollInterval(time.Hour))
	c := postgres.NewStore(pool(), wallClock{}, postgres.WithPollInterval(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.ShareWakes(ctx)
	go b.ShareWakes(ctx)

	got := next(ctx, b.Subscribe(ctx, es.Start))
	time.Sleep(500 * time.Millisecond) // B waits, both listen
	appendOne(t, c, "from-c")
	select {
	case evs := <-got:
		t.Fatalf("B saw %d events of C, which shares no wakes, before its poll", len(evs))
	case <-time.After(time.Second):
	}
	appendOne(t, a, "from-a")
	// A's notification wakes B: it reads C's event, and A's in the same
	// batch or (if another transaction on the cluster held it back for a
	// moment) in the next.
	sub := b.Subscribe(ctx, es.Start)
	var streams []string
	deadline := time.After(3 * time.Second)
	for len(streams) < 2 {
		select {
		case evs := <-got:
			for _, e := range evs {
				streams = append(streams, e.StreamID)
			}
			sub.Reset(evs[len(evs)-1].Position)
			got = next(ctx, sub)
		case <-deadline:
			t.Fatalf("B did not wake on A's append within 3 s (got %v)", streams)
		}
	}
	if len(streams) != 2 || streams[0] != "from-c" || streams[1] != "from-a" {
		t.Fatalf("B got %v, want from-c then from-a", streams)
	}
}

// TestHeldBackSubscriptionReadsAgainSoon: an event committed behind an
// older open transaction is not readable; once that transaction ends, a
// waiting subscription gets it well within its poll interval (an hour
// here), because it knows events are held back and looks again after 1 ms,
// 2, 4 … and at once when this process's projectors commit (Wake).
func TestHeldBackSubscriptionReadsAgainSoon(t *testing.T) {
	pool := pgtest.Pool(t)
	s := postgres.NewStore(pool, wallClock{}, postgres.WithPollInterval(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := next(ctx, s.Subscribe(ctx, es.Start))

	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // takes a transaction ID
		t.Fatal(err)
	}
	appendOne(t, s, "held")
	select {
	case evs := <-got:
		t.Fatalf("got %d events while an older transaction was open", len(evs))
	case <-time.After(500 * time.Millisecond):
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	s.Wake()
	select {
	case evs := <-got:
		if len(evs) != 1 || evs[0].StreamID != "held" {
			t.Fatalf("got %v, want the held event", evs)
		}
	case <-time.After(time.Second):
		t.Fatal("the held-back event did not arrive within 1 s of the holder's commit")
	}
}
