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

// TestWorkInAppendTransaction: work carried by es.WithInTx commits with
// the append (Append and AppendMany) or not at all: a failing work leaves
// no event, a version conflict leaves no side row, and a re-sent command
// ID runs no work.
func TestWorkInAppendTransaction(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE side (stream text, note text)`); err != nil {
		t.Fatal(err)
	}
	s := postgres.NewStore(pool, wallClock{})
	side := func(stream, note string) es.InTx {
		return func(ctx context.Context, tx any) error {
			_, err := tx.(pgx.Tx).Exec(ctx, `INSERT INTO side VALUES ($1, $2)`, stream, note)
			return err
		}
	}
	ev := func() es.EventData {
		return es.EventData{ID: es.NewEventID(), Type: "test.noted", SchemaVersion: 1, Data: []byte(`{"text":"x"}`)}
	}
	count := func(q string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	md := es.Metadata{CommandID: "cmd-1", Actor: es.Actor{Role: "system"}}

	if _, err := s.Append(es.WithInTx(ctx, side("a", "first")), "a", es.NoStream, md, ev()); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM side WHERE stream = 'a'`); n != 1 {
		t.Fatalf("side rows after the append: %d", n)
	}
	// The same command again: Duplicate, the work does not run.
	res, err := s.Append(es.WithInTx(ctx, side("a", "again")), "a", es.NoStream, md, ev())
	if err != nil || !res.Duplicate || count(`SELECT count(*) FROM side WHERE stream = 'a'`) != 1 {
		t.Fatalf("re-sent: %+v %v, side rows %d", res, err, count(`SELECT count(*) FROM side WHERE stream = 'a'`))
	}
	// A wrong expected version: no side row.
	var wv *es.WrongVersionError
	if _, err := s.Append(es.WithInTx(ctx, side("a", "late")), "a", es.NoStream, es.Metadata{}, ev()); !errors.As(err, &wv) || count(`SELECT count(*) FROM side WHERE note = 'late'`) != 0 {
		t.Fatalf("conflict: %v", err)
	}
	// Failing work: no event.
	boom := errors.New("boom")
	fail := func(context.Context, any) error { return boom }
	if _, err := s.Append(es.WithInTx(ctx, fail), "b", es.NoStream, es.Metadata{}, ev()); !errors.Is(err, boom) || count(`SELECT count(*) FROM events WHERE stream_id = 'b'`) != 0 {
		t.Fatalf("failing work: %v, events %d", err, count(`SELECT count(*) FROM events WHERE stream_id = 'b'`))
	}
	// AppendMany: the work commits with both streams, or nothing does.
	if _, err := s.AppendMany(es.WithInTx(ctx, side("c", "many")), es.Metadata{},
		es.StreamAppend{Stream: "c", Expected: es.NoStream, Events: []es.EventData{ev()}},
		es.StreamAppend{Stream: "d", Expected: es.NoStream, Events: []es.EventData{ev()}}); err != nil || count(`SELECT count(*) FROM side WHERE stream = 'c'`) != 1 {
		t.Fatalf("append many: %v", err)
	}
	if _, err := s.AppendMany(es.WithInTx(ctx, fail), es.Metadata{},
		es.StreamAppend{Stream: "e", Expected: es.NoStream, Events: []es.EventData{ev()}}); !errors.Is(err, boom) || count(`SELECT count(*) FROM events WHERE stream_id = 'e'`) != 0 {
		t.Fatalf("append many, failing work: %v", err)
	}
}
