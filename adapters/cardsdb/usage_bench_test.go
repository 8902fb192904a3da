package cardsdb_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// BenchmarkUsageImport measures the usage import path of
// commands/cards.ImportUsageHandler (parse with edi.UsageParser, then
// cardsdb.UsageStore: check the cards, COPY into usage_records) on a
// generated 100,000-row file, beside a raw COPY of the same rows into a
// plain table, and reports both rates and their ratio:
//
//	go test ./adapters/cardsdb -run '^$' -bench BenchmarkUsageImport -benchtime 3x
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
		// A card is known when its stream exists (a bare row is enough here).
		if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
			VALUES (gen_random_uuid(), $1, 1, 'card.issued', 1, '{}', '{}', now(), '\x00')`, "card-"+cards[i]); err != nil {
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
	parser, store := edi.UsageParser{}, cardsdb.UsageStore{Pool: pool}
	var importDur, rawDur time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := pool.Exec(ctx, `TRUNCATE usage_records, raw_usage`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		_, records, err := parser.ParseUsage(data)
		if err != nil {
			b.Fatal(err)
		}
		res, err := store.LoadUsage(ctx, records, "bench")
		if err != nil || res.Imported != rows {
			b.Fatalf("import: %v %+v", err, res.Imported)
		}
		importDur += time.Since(t0)
		b.StopTimer()
		t1 := time.Now()
		i := 0
		_, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_usage"}, cardsdb.UsageColumns(),
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
