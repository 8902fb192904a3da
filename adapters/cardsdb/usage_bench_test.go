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
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// BenchmarkUsageImport measures the whole usage import command
// (commands/cards.ImportUsageHandler as gantry wires it: stream-parse with
// edi.ReadUsage, check the cards, COPY each chunk into usage_records, append
// usage.file_imported, all in one transaction) on a generated 100,000-row
// file, beside a raw COPY of the same rows into a plain table and into a
// table with usage_records' indexes, and reports the rates and the ratios:
//
//	go test ./adapters/cardsdb -run '^$' -bench BenchmarkUsageImport -benchtime 3x
func BenchmarkUsageImport(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	pool := pgtest.Pool(b)
	cards := make([]card.CardNumber, 100)
	for i := range cards {
		cards[i], _ = card.NewCardNumber("91234", int64(i+1))
		issue(b, pool, cards[i])
	}
	file := func(run int) []byte {
		var buf bytes.Buffer
		buf.WriteString(edi.UsageHeader + "\n")
		for i := range rows {
			d := time.Date(2026, 11, 1+i%28, 8, 0, 0, 0, time.UTC)
			fmt.Fprintf(&buf, "R-%d-%07d,NEXCO-E,%s,品川 300 あ %02d-%02d,東京,%s,厚木,%s,%d\n", run, i, cards[i%100], i%100, i%7,
				d.Format(edi.UsageTimeLayout), d.Add(40*time.Minute).Format(edi.UsageTimeLayout), 100+i%5000)
		}
		return buf.Bytes()
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE raw_usage (LIKE usage_records); CREATE TABLE raw_indexed (LIKE usage_records INCLUDING INDEXES)`); err != nil {
		b.Fatal(err)
	}
	h := importer(b, pool, 0)
	var importDur, rawDur, indexedDur time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		data := file(run)
		parsed, err := edi.ParseUsage(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `TRUNCATE usage_records, raw_usage, raw_indexed`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "bench.csv", Body: bytes.NewReader(data)})
		if err != nil || res.Imported != rows {
			b.Fatalf("import: %v %+v", err, res.Imported)
		}
		importDur += time.Since(t0)
		b.StopTimer()
		t1 := time.Now()
		if _, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_usage"}, cardsdb.UsageColumns(), cardsdb.UsageRows(parsed.Records)); err != nil {
			b.Fatal(err)
		}
		rawDur += time.Since(t1)
		t2 := time.Now()
		if _, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_indexed"}, cardsdb.UsageColumns(), cardsdb.UsageRows(parsed.Records)); err != nil {
			b.Fatal(err)
		}
		indexedDur += time.Since(t2)
		b.StartTimer()
	}
	imp := float64(rows*b.N) / importDur.Seconds()
	raw := float64(rows*b.N) / rawDur.Seconds()
	indexed := float64(rows*b.N) / indexedDur.Seconds()
	b.ReportMetric(imp, "import_records/s")
	b.ReportMetric(raw, "rawcopy_records/s")
	b.ReportMetric(indexed, "rawcopy_indexed_records/s")
	b.ReportMetric(imp/raw, "import/raw")
	b.ReportMetric(imp/indexed, "import/raw_indexed")
}
