package edi_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/test/pgtest"
)

var printDay = domain.Date{Year: 2026, Month: 11, Day: 2}

func printerRecord(i int) card.PrinterRecord {
	n, _ := card.NewCardNumber("91234", int64(i))
	return card.PrinterRecord{CustomerNameAlpha: "YAMADA UNYU CO., LTD.", VehicleNumber: fmt.Sprintf("品川 300 あ %02d-%02d", i/100%100, i%100),
		CardType: "BLUE01", CardNumber: n.String(), Expiry: "2028/11"}
}

// record records cards (in this order) in one transaction, as the printer
// projector does with a batch of events.
func record(t testing.TB, pool *pgxpool.Pool, day domain.Date, cards ...int) {
	t.Helper()
	ctx := context.Background()
	var entries []edi.PrinterEntry
	for _, i := range cards {
		entries = append(entries, edi.PrinterEntry{EventID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(i))), Day: day, Record: printerRecord(i)})
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return edi.PrinterSink{}.Record(ctx, tx, entries) }); err != nil {
		t.Fatal(err)
	}
}

func flush(t testing.TB, s edi.PrinterSink, want int) {
	t.Helper()
	n, err := s.Flush(context.Background())
	if err != nil || n != want {
		t.Fatalf("flush wrote %d cards (%v), want %d", n, err, want)
	}
}

// Cards are appended to the day's file once each, in issue order, a batch
// per flush; a card recorded again adds nothing; after a crash between the
// fsync and the commit of the mark (lines past the recorded length, the
// last one torn) the next flush leaves exactly one whole line per card; a
// file written line by line before the batches (no recorded length) gets
// only the cards it does not hold.
func TestPrinterSinkAppends(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := edi.PrinterSink{Pool: pool, Dir: t.TempDir()}
	path := filepath.Join(s.Dir, edi.PrinterFileName(printDay))
	lines := func(path string) []string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatalf("file ends in a torn line: %q", b)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	card := func(l string) string { f := strings.Split(l, ","); return f[len(f)-2] }
	wantCards := func(path string, want ...int) {
		t.Helper()
		got := lines(path)
		if len(got) != len(want) {
			t.Fatalf("%d lines %q, want cards %v", len(got), got, want)
		}
		for k, i := range want {
			if card(got[k]) != printerRecord(i).CardNumber {
				t.Fatalf("line %d is %q, want card %d (all: %q)", k+1, got[k], i, got)
			}
		}
	}
	record(t, pool, printDay, 3, 1)
	record(t, pool, printDay, 2, 1)
	flush(t, s, 3)
	flush(t, s, 0)
	wantCards(path, 3, 1, 2)
	if got := lines(path); !strings.HasPrefix(got[0], `"YAMADA UNYU CO., LTD.",品川 300 あ 00-03,BLUE01,`) {
		t.Fatalf("line layout: %q", got[0])
	}
	record(t, pool, printDay, 1, 2) // delivered again: nothing new
	flush(t, s, 0)

	// Crash after the fsync of cards 4 and 5, before the commit: their
	// lines are past the recorded length (the last one torn), their rows
	// not marked.
	before, _ := os.ReadFile(path)
	record(t, pool, printDay, 4, 5)
	flush(t, s, 2)
	after, _ := os.ReadFile(path)
	if err := os.WriteFile(path, after[:len(after)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE printer_edi SET written = false WHERE card = ANY($1)`, []string{printerRecord(4).CardNumber, printerRecord(5).CardNumber}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE printer_files SET size = $1`, len(before)); err != nil {
		t.Fatal(err)
	}
	record(t, pool, printDay, 6)
	flush(t, s, 3)
	wantCards(path, 3, 1, 2, 4, 5, 6)

	// A day file from the line-by-line sink: card 7 in it, card 8 torn
	// (rows not marked, no recorded length).
	day2 := domain.Date{Year: 2026, Month: 11, Day: 3}
	path2 := filepath.Join(s.Dir, edi.PrinterFileName(day2))
	record(t, pool, day2, 7, 8)
	var l7, l8 string
	if err := pool.QueryRow(ctx, `SELECT (SELECT line FROM printer_edi WHERE card = $1), (SELECT line FROM printer_edi WHERE card = $2)`,
		printerRecord(7).CardNumber, printerRecord(8).CardNumber).Scan(&l7, &l8); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path2, []byte(l7+l8[:10]), 0o644); err != nil {
		t.Fatal(err)
	}
	flush(t, s, 2)
	wantCards(path2, 7, 8)
	wantCards(path, 3, 1, 2, 4, 5, 6)

	// A file shorter than recorded (lost) is an error, not a silent gap.
	if err := os.WriteFile(path, before[:len(before)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	record(t, pool, printDay, 9)
	if _, err := s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "shorter than") {
		t.Fatalf("flush onto a shortened file: %v", err)
	}
}

// BenchmarkPrinterSink records 10,000 cards for one day's file, 100 per
// transaction (a projector batch), flushing after each, and reports the
// rate of the first and of the last 1,000 cards and their ratio (1: the
// cost per card does not grow with the file; the old rewrite-per-card sink
// fell with every card):
//
//	go test ./adapters/edi -run '^$' -bench BenchmarkPrinterSink -benchtime 1x
func BenchmarkPrinterSink(b *testing.B) {
	const cards, batch = 10_000, 100
	pool := pgtest.Pool(b)
	var firstRate, lastRate float64
	for run := 0; b.Loop(); run++ {
		s := edi.PrinterSink{Pool: pool, Dir: b.TempDir()}
		var t0 time.Time
		for i := 0; i < cards; i += batch {
			if i == 0 || i == cards-1000 {
				t0 = time.Now()
			}
			ids := make([]int, batch)
			for k := range ids {
				ids[k] = run*cards + i + k + 1
			}
			record(b, pool, printDay, ids...)
			flush(b, s, batch)
			switch i + batch {
			case 1000:
				firstRate += 1000 / time.Since(t0).Seconds()
			case cards:
				lastRate += 1000 / time.Since(t0).Seconds()
			}
		}
	}
	b.ReportMetric(firstRate/float64(b.N), "first1000_cards/s")
	b.ReportMetric(lastRate/float64(b.N), "last1000_cards/s")
	b.ReportMetric(lastRate/firstRate, "last/first")
}
