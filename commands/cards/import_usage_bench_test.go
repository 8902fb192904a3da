package cards_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/adapters/edi"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// BenchmarkUsageImport measures the usage import path (parse + COPY into
// staging + INSERT … ON CONFLICT DO NOTHING into usage_records) on a
// generated 100,000-row file, beside a raw COPY of the same rows into a
// plain table, and reports both rates and their ratio:
//
//	go test ./commands/cards -run '^$' -bench BenchmarkUsageImport -benchtime 3x
func BenchmarkUsageImport(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	pool := pgtest.Pool(b)
	var buf bytes.Buffer
	buf.WriteString(edi.UsageHeader + "\n")
	cards := make([]string, 100)
	for i := range cards {
		n, _ := card.NewCardNumber("91234", int64(i+1))
		cards[i] = n.String()
		if _, err := pool.Exec(ctx, `INSERT INTO card_registry VALUES ($1,'L-1',$2,'in_use')`, cards[i], fmt.Sprintf("V%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range rows {
		d := time.Date(2026, 11, 1+i%28, 8, 0, 0, 0, time.UTC)
		fmt.Fprintf(&buf, "R-%07d,NEXCO-E,%s,品川 300 あ %02d-%02d,東京,%s,厚木,%s,%d\n", i, cards[i%100], i%100, i%7,
			d.Format(edi.UsageTimeLayout), d.Add(40*time.Minute).Format(edi.UsageTimeLayout), 100+i%5000)
	}
	data := buf.Bytes()
	parsed, err := edi.ParseUsage(data)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE raw_usage (LIKE usage_records)`); err != nil {
		b.Fatal(err)
	}
	loader := cmdcards.UsageLoader{Pool: pool}
	var importDur, rawDur time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := pool.Exec(ctx, `TRUNCATE usage_records, raw_usage`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := loader.Load(ctx, data, "bench")
		if err != nil || res.Imported != rows {
			b.Fatalf("import: %v %+v", err, res.Imported)
		}
		importDur += time.Since(t0)
		b.StopTimer()
		t1 := time.Now()
		i := 0
		_, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_usage"}, []string{"operator", "record_id", "card", "vehicle", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll", "usage_date", "file_sha256"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i >= len(parsed.Records) {
					return nil, nil
				}
				u := parsed.Records[i]
				i++
				return []any{u.Operator(), u.RecordID(), u.Card().String(), u.Vehicle().String(), u.EntryIC(), u.EntryAt(), u.ExitIC(), u.ExitAt(), int64(u.Toll()), u.UsageDate().Start(), "bench"}, nil
			}))
		if err != nil {
			b.Fatal(err)
		}
		rawDur += time.Since(t1)
		b.StartTimer()
	}
	imp := float64(rows*b.N) / importDur.Seconds()
	raw := float64(rows*b.N) / rawDur.Seconds()
	b.ReportMetric(imp, "import_records/s")
	b.ReportMetric(raw, "rawcopy_records/s")
	b.ReportMetric(imp/raw, "import/raw")
}
