package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// AppendWithin commits the caller's rows and the events together, or
// neither: on the caller's error, on a wrong expected version, and for a
// command ID appended before (a retry keeps nothing of its second run).
func TestAppendWithin(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool, wallClock{})
	if _, err := pool.Exec(ctx, `CREATE TABLE side (n int)`); err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ev := func() []es.EventData {
		return []es.EventData{{ID: es.NewEventID(), Type: "test.done", SchemaVersion: 1, Data: []byte(`{"text":"x"}`)}}
	}
	run := func(md es.Metadata, stream string, expected es.ExpectedVersion, fail error) ([]es.AppendResult, error) {
		return store.AppendWithin(ctx, func(ctx context.Context, tx pgx.Tx) (es.Metadata, []es.StreamAppend, error) {
			if _, err := tx.Exec(ctx, `INSERT INTO side SELECT generate_series(1, 3)`); err != nil {
				return md, nil, err
			}
			return md, []es.StreamAppend{{Stream: stream, Expected: expected, Events: ev()}}, fail
		})
	}
	res, err := run(es.Metadata{CommandID: "cmd-1"}, "s-1", es.NoStream, nil)
	if err != nil || len(res) != 1 || res[0].Duplicate || res[0].LastVersion != 1 {
		t.Fatalf("first: %+v %v", res, err)
	}
	// The side rows were written by the events' transaction.
	if n := count(`SELECT count(*) FROM side s, events e WHERE e.stream_id = 's-1' AND s.xmin::text::bigint = (e.transaction_id::text::bigint % 4294967296)`); n != 3 {
		t.Fatalf("%d side rows in the events' transaction, want 3", n)
	}
	boom := errors.New("boom")
	if _, err := run(es.Metadata{}, "s-2", es.NoStream, boom); !errors.Is(err, boom) {
		t.Fatalf("failing side: %v", err)
	}
	var wv *es.WrongVersionError
	if _, err := run(es.Metadata{}, "s-1", es.NoStream, nil); !errors.As(err, &wv) || wv.Actual != 1 {
		t.Fatalf("wrong version: %v", err)
	}
	again, err := run(es.Metadata{CommandID: "cmd-1"}, "s-1", es.NoStream, nil)
	if err != nil || len(again) != 1 || !again[0].Duplicate || again[0].Position != res[0].Position {
		t.Fatalf("retried command: %+v %v (first %+v)", again, err, res)
	}
	if _, err := store.AppendWithin(ctx, func(context.Context, pgx.Tx) (es.Metadata, []es.StreamAppend, error) {
		return es.Metadata{}, nil, nil
	}); err == nil {
		t.Fatal("side writes recorded by no event were accepted")
	}
	if n := count(`SELECT count(*) FROM side`); n != 3 {
		t.Fatalf("%d side rows, want the first run's 3 only", n)
	}
	if n := count(`SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}
