package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// TestSequencerFrontierCache: the cached sequencer, fed batches of awkward
// sizes (across tile and subtree edges), with a batch rolled back on the way
// (the cache then describes a tree the database does not hold) and entries
// written meanwhile by an uncached sequencer, stores exactly the entries
// and stored hashes that x/mod's tlog computes for the events in order.
func TestSequencerFrontierCache(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := postgres.NewStore(pool, commands.SystemClock{})
	for s := 0; s < 13; s++ {
		var data []es.EventData
		for i := 0; i < 50; i++ {
			data = append(data, es.EventData{ID: es.NewEventID(), Type: "test.visited", SchemaVersion: 1, Data: []byte(fmt.Sprintf(`{"i":%d}`, i))})
		}
		if _, err := store.Append(ctx, fmt.Sprintf("s-%d", s), es.NoStream, es.Metadata{}, data...); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := store.ReadAll(ctx, es.Start, 10_000)
	if err != nil || len(recs) != 650 {
		t.Fatalf("%d events, %v", len(recs), err)
	}
	apply := func(s tlog.Sequencer, batch []es.RecordedEvent, rollback bool) {
		t.Helper()
		evs := make([]es.Event, len(batch))
		for i, r := range batch {
			evs[i] = es.Event{RecordedEvent: r}
		}
		errRollback := errors.New("rolled back")
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := s.Apply(ctx, tx, evs); err != nil {
				return err
			}
			if rollback {
				return errRollback
			}
			return nil
		})
		if err != nil && !(rollback && errors.Is(err, errRollback)) {
			t.Fatal(err)
		}
	}
	cached, plain := tlog.NewSequencer(), tlog.Sequencer{}
	at := 0
	for k, size := range []int{1, 2, 5, 200, 48, 255, 1, 3, 100} {
		batch := recs[at : at+size]
		switch k {
		case 4:
			apply(cached, batch, true) // the cache moves on, the database does not
			apply(cached, batch, false)
		case 6:
			apply(plain, batch, false) // someone else extended the tree
		default:
			apply(cached, batch, false)
		}
		at += size
	}
	apply(cached, recs[at:], false)

	// What x/mod's tlog makes of the same events.
	var want []xtlog.Hash
	r := xtlog.HashReaderFunc(func(ix []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = want[x]
		}
		return out, nil
	})
	rows, err := pool.Query(ctx, `SELECT idx, entry, hashes FROM tlog_entries ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := int64(0)
	for rows.Next() {
		var (
			idx           int64
			entry, hashes []byte
		)
		if err := rows.Scan(&idx, &entry, &hashes); err != nil {
			t.Fatal(err)
		}
		b, _ := tlog.EntryOf(recs[n]).Marshal()
		hs, err := xtlog.StoredHashes(n, b, r)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
		var wantHashes []byte
		for _, h := range hs {
			wantHashes = append(wantHashes, h[:]...)
		}
		if idx != n || !bytes.Equal(entry, b) || !bytes.Equal(hashes, wantHashes) {
			t.Fatalf("entry %d (row %d): stored entry or hashes differ from x/mod's", n, idx)
		}
		n++
	}
	if n != int64(len(recs)) {
		t.Fatalf("%d entries, want %d", n, len(recs))
	}
}
