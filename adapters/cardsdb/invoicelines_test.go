package cardsdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// txExec runs a TxWrite's statements on a pgx transaction, as the event
// store's append does.
type txExec struct{ tx pgx.Tx }

func (e txExec) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := e.tx.Exec(ctx, sql, args...)
	return err
}

// keep runs InvoiceLines.Keep in a transaction of its own and commits it.
func keep(ctx context.Context, pool *pgxpool.Pool, sets ...billing.DocumentLines) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := (cardsdb.InvoiceLines{Pool: pool}).Keep(sets...)(ctx, txExec{tx}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func usageRecord(t *testing.T, c card.CardNumber, id string, day int) billing.UsageRecord {
	at := time.Date(2026, 11, day, 8, 0, 0, 0, domain.Tokyo)
	return domaintest.Must(billing.NewUsageRecord(billing.UsageFields{RecordID: id, Operator: "NEXCO-E", Card: c.String(), Vehicle: "品川 300 あ 12-34",
		EntryIC: "東京", EntryAt: at, ExitIC: "厚木", ExitAt: at.Add(40 * time.Minute), Toll: 700}))
}

// TestInvoiceUsageReference: an invoice's toll lines are kept as a
// reference to their usage records and read back, merged with the stored
// fee lines in detail order, equal to what was hashed. A record that a
// usage import had not committed when the invoice was appended (in
// progress then, or imported after) never joins it; an append whose lines
// miss a committed record is refused with cmdcards.ErrUsageChanged, so the
// run computes the contract again.
func TestInvoiceUsageReference(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := cardsdb.InvoiceLines{Pool: pool}
	c := domaintest.Must(card.NewCardNumber("91234", 17))
	load := func(tx interface {
		CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
	}, recs ...billing.UsageRecord) {
		t.Helper()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_records"}, cardsdb.UsageColumns(), cardsdb.UsageRows(recs)); err != nil {
			t.Fatal(err)
		}
	}
	var recs []billing.UsageRecord
	for i := range 3 {
		recs = append(recs, usageRecord(t, c, fmt.Sprintf("R-%d", i), 3+i))
	}
	load(pool, recs...)

	// An import still in progress when the invoice is appended.
	pending := domaintest.Must(pool.Begin(ctx))
	defer pending.Rollback(ctx)
	load(pending, usageRecord(t, c, "R-PENDING", 4))

	fee := billing.Line{Key: "issue_fee:" + c.String(), Kind: billing.KindIssueFee, Card: c, Vehicle: recs[0].Vehicle(), Reason: card.ReasonNew, Amount: 500, TaxRate: billing.StandardRate}
	var tolls []billing.Line
	for _, u := range recs {
		tolls = append(tolls, billing.TollLine(u))
	}
	lines := billing.MergeLines(tolls, []billing.Line{fee})
	inv := domaintest.Must(billing.ParseInvoiceNumber("INV-202611-L-2026-001"))
	if err := keep(ctx, pool, billing.DocumentLines{Document: inv, Part: billing.PartLines, Lines: lines}); err != nil {
		t.Fatalf("keep: %v", err)
	}
	if err := pending.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	load(pool, usageRecord(t, c, "R-LATE", 5))

	want := billing.Commit(lines)
	if n, sum, err := store.Hash(ctx, inv, billing.PartLines); err != nil || n != want.Count || sum != want.SHA256 {
		t.Fatalf("read back: %d lines, %s (%v); kept %d, %s", n, sum, err, want.Count, want.SHA256)
	}
	got := domaintest.Must(store.Lines(ctx, inv, billing.PartLines))
	if len(got) != 4 || got[0].Key != fee.Key || got[3].RecordID != "R-2" {
		t.Fatalf("lines: %+v", got)
	}
	if n := domaintest.Must(store.StoredLines(ctx, inv, billing.PartLines)); n != 1 {
		t.Fatalf("%d rows in invoice_lines, want the fee line only", n)
	}

	// Lines computed from the three records, appended after two more
	// committed: refused, nothing kept.
	other := domaintest.Must(billing.ParseInvoiceNumber("INV-202611-L-2026-002"))
	err := keep(ctx, pool, billing.DocumentLines{Document: other, Part: billing.PartLines, Lines: lines})
	if !errors.Is(err, cmdcards.ErrUsageChanged) {
		t.Fatalf("stale lines: %v, want ErrUsageChanged", err)
	}
	if got := domaintest.Must(store.Lines(ctx, other, billing.PartLines)); len(got) != 0 {
		t.Fatalf("a refused keep left %d lines", len(got))
	}
}
