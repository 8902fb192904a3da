package cardsdb_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/test/pgtest"
)

func TestNumbers(t *testing.T) {
	ctx := context.Background()
	n := cardsdb.Numbers{Pool: pgtest.Pool(t), Prefix: "91234"}
	a := domaintest.Must(n.Next(ctx, ""))
	b := domaintest.Must(n.Next(ctx, ""))
	first := domaintest.Must(n.Next(ctx, "cmd-1"))
	again := domaintest.Must(n.Next(ctx, "cmd-1"))
	other := domaintest.Must(n.Next(ctx, "cmd-2"))
	if a == b || first != again || first == other || first == a || first == b {
		t.Fatalf("numbers %v %v, cmd-1 %v then %v, cmd-2 %v", a, b, first, again, other)
	}
	if _, err := card.ParseCardNumber(first.String()); err != nil {
		t.Fatalf("not a valid card number: %v", err)
	}
	if got, ok, err := n.Given(ctx, "cmd-1"); err != nil || !ok || got != first {
		t.Fatalf("Given cmd-1: %v %v %v", got, ok, err)
	}
	if _, ok, err := n.Given(ctx, "cmd-unknown"); err != nil || ok {
		t.Fatalf("Given of an unknown command: %v %v", ok, err)
	}
}

func usage(id string, c card.CardNumber) billing.UsageRecord {
	at := time.Date(2026, 11, 4, 8, 0, 0, 0, domain.Tokyo)
	return domaintest.Must(billing.NewUsageRecord(billing.UsageFields{RecordID: id, Operator: "NEXCO-E", Card: c.String(),
		Vehicle: "品川 300 あ 12-34", EntryIC: "東京", EntryAt: at, ExitIC: "厚木", ExitAt: at.Add(40 * time.Minute), Toll: 1000}))
}

// LoadUsage keeps rows of issued cards only, skips records loaded before,
// and writes nothing when it fails.
func TestUsageStore(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := cardsdb.UsageStore{Pool: pool}
	issued, unknown := domaintest.Must(card.NewCardNumber("91234", 1)), domaintest.Must(card.NewCardNumber("91234", 2))
	// A card is issued when its stream exists (a bare row is enough here).
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
		VALUES (gen_random_uuid(), $1, 1, 'card.issued', 1, '{}', '{}', now(), '\x00')`, "card-"+issued.String()); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM usage_records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	res, err := store.LoadUsage(ctx, []billing.UsageRecord{usage("R-1", issued), usage("R-2", unknown), usage("R-3", issued)}, "f1")
	if err != nil || res.Imported != 2 || res.AlreadyKnown != 0 || !slices.Equal(res.UnknownCards, []string{unknown.String()}) {
		t.Fatalf("first load: %+v %v", res, err)
	}
	res, err = store.LoadUsage(ctx, []billing.UsageRecord{usage("R-1", issued), usage("R-4", issued)}, "f2")
	if err != nil || res.Imported != 1 || res.AlreadyKnown != 1 || count() != 3 {
		t.Fatalf("overlapping load: %+v %v, %d rows", res, err, count())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.LoadUsage(cancelled, []billing.UsageRecord{usage("R-5", issued)}, "f3"); !errors.Is(err, context.Canceled) || count() != 3 {
		t.Fatalf("failed load: %v, %d rows", err, count())
	}
}
