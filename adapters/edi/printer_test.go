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

// Cards are appended to the day's file once each, in issue order; a
// re-delivered event adds nothing; after a crash between recording and
// the mark (line missing, or torn, or already in the file) the re-delivery
// leaves exactly one whole line per card.
func TestPrinterSinkAppends(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := edi.PrinterSink{Pool: pool, Dir: t.TempDir()}
	path := filepath.Join(s.Dir, edi.PrinterFileName(printDay))
	ids := map[int]uuid.UUID{}
	write := func(i int) {
		t.Helper()
		if _, ok := ids[i]; !ok {
			ids[i] = uuid.New()
		}
		if err := s.Write(ctx, ids[i], printDay, printerRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := func() []string {
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
	for _, i := range []int{3, 1, 2, 1} {
		write(i)
	}
	got := lines()
	if len(got) != 3 || card(got[0]) != printerRecord(3).CardNumber || card(got[2]) != printerRecord(2).CardNumber {
		t.Fatalf("lines %q, want cards 3, 1, 2 once each", got)
	}
	if !strings.HasPrefix(got[0], `"YAMADA UNYU CO., LTD.",品川 300 あ 00-03,BLUE01,`) {
		t.Fatalf("line layout: %q", got[0])
	}
	unmark := func(i int) {
		if _, err := pool.Exec(ctx, `UPDATE printer_edi SET written = false WHERE card = $1`, printerRecord(i).CardNumber); err != nil {
			t.Fatal(err)
		}
	}
	// Crash after the append, before the mark: the line is there once.
	unmark(2)
	write(2)
	// Crash in the middle of the append: a torn line at the end.
	write(4)
	unmark(4)
	b, _ := os.ReadFile(path)
	torn := b[:len(b)-10]
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	write(5) // another card meanwhile: the torn tail is cut before it
	write(4) // the re-delivery repairs
	got = lines()
	want := []int{3, 1, 2, 5, 4}
	if len(got) != len(want) {
		t.Fatalf("after repairs %d lines %q, want cards %v", len(got), got, want)
	}
	for k, i := range want {
		if card(got[k]) != printerRecord(i).CardNumber {
			t.Fatalf("line %d is %q, want card %d", k+1, got[k], i)
		}
	}
}

// BenchmarkPrinterSink writes 10,000 cards into one day's file and reports
// the rate of the first and of the last 1,000 cards and their ratio (1:
// the cost per card does not grow with the file; the old rewrite-per-card
// sink fell with every card):
//
//	go test ./adapters/edi -run '^$' -bench BenchmarkPrinterSink -benchtime 1x
func BenchmarkPrinterSink(b *testing.B) {
	const cards = 10_000
	ctx := context.Background()
	pool := pgtest.Pool(b)
	var firstRate, lastRate float64
	for run := 0; b.Loop(); run++ {
		s := edi.PrinterSink{Pool: pool, Dir: b.TempDir()}
		var t0 time.Time
		for i := 0; i < cards; i++ {
			if i == 0 || i == cards-1000 {
				t0 = time.Now()
			}
			if err := s.Write(ctx, uuid.New(), printDay, printerRecord(run*cards+i+1)); err != nil {
				b.Fatal(err)
			}
			switch i {
			case 999:
				firstRate += 1000 / time.Since(t0).Seconds()
			case cards - 1:
				lastRate += 1000 / time.Since(t0).Seconds()
			}
		}
	}
	b.ReportMetric(firstRate/float64(b.N), "first1000_cards/s")
	b.ReportMetric(lastRate/float64(b.N), "last1000_cards/s")
	b.ReportMetric(lastRate/firstRate, "last/first")
}
