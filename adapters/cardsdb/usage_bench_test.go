package cardsdb_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
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
// file (USAGE_BENCH_ROWS rows, default 100,000, over USAGE_BENCH_CARDS
// cards, default 100), beside a raw COPY of the same rows into a plain table and into a
// table with usage_records' indexes, and reports the rates, the ratios and
// the CPU per row of each side (this process, the PostgreSQL server):
//
//	go test ./adapters/cardsdb -run '^$' -bench BenchmarkUsageImport -benchtime 3x
//	USAGE_BENCH_ROWS=5000000 USAGE_BENCH_CARDS=100000 go test ./adapters/cardsdb -run '^$' -bench BenchmarkUsageImport -benchtime 1x -timeout 60m
func BenchmarkUsageImport(b *testing.B) {
	rows, nCards := envInt("USAGE_BENCH_ROWS", 100_000), envInt("USAGE_BENCH_CARDS", 100)
	ctx := context.Background()
	pool := pgtest.Pool(b)
	cards := make([]card.CardNumber, nCards)
	streams := make([]string, nCards)
	for i := range cards {
		cards[i], _ = card.NewCardNumber("91234", int64(i+1))
		streams[i] = "card-" + cards[i].String()
	}
	// The card streams the import checks (as issue does, in one statement).
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
		SELECT gen_random_uuid(), s, 1, 'card.issued', 1, '{}', '{}', now(), '\x00' FROM unnest($1::text[]) AS s`, streams); err != nil {
		b.Fatal(err)
	}
	file := func(run int) []byte {
		var buf bytes.Buffer
		buf.WriteString(edi.UsageHeader + "\n")
		for i := range rows {
			d := time.Date(2026, 11, 1+i%28, 8, 0, 0, 0, time.UTC)
			fmt.Fprintf(&buf, "R-%d-%07d,NEXCO-E,%s,品川 300 あ %02d-%02d,東京,%s,厚木,%s,%d\n", run, i, cards[i%nCards], i%100, i%7,
				d.Format(edi.UsageTimeLayout), d.Add(40*time.Minute).Format(edi.UsageTimeLayout), 100+i%5000)
		}
		return buf.Bytes()
	}
	// Usage records are immutable (migration 02300); this bench empties
	// the table between runs.
	if _, err := pool.Exec(ctx, `ALTER TABLE usage_records DISABLE TRIGGER usage_records_no_truncate;
		CREATE TABLE raw_usage (LIKE usage_records); CREATE TABLE raw_indexed (LIKE usage_records INCLUDING INDEXES)`); err != nil {
		b.Fatal(err)
	}
	h := importer(b, pool, 0)
	var importDur, rawDur, indexedDur time.Duration
	var importCPU, indexedCPU [2]time.Duration // this process, PostgreSQL
	cpu := pgtest.NewCPUMeter(b, pool)
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
		t0, c0, s0 := time.Now(), cpu.Client(), cpu.Server()
		res, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "bench.csv", Body: bytes.NewReader(data)})
		if err != nil || res.Imported != rows {
			b.Fatalf("import: %v %+v", err, res.Imported)
		}
		importDur += time.Since(t0)
		importCPU[0] += cpu.Client() - c0
		importCPU[1] += cpu.Server() - s0
		b.StopTimer()
		t1 := time.Now()
		if _, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_usage"}, cardsdb.UsageColumns(), cardsdb.UsageRows(parsed.Records)); err != nil {
			b.Fatal(err)
		}
		rawDur += time.Since(t1)
		t2, c2, s2 := time.Now(), cpu.Client(), cpu.Server()
		if _, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_indexed"}, cardsdb.UsageColumns(), cardsdb.UsageRows(parsed.Records)); err != nil {
			b.Fatal(err)
		}
		indexedDur += time.Since(t2)
		indexedCPU[0] += cpu.Client() - c2
		indexedCPU[1] += cpu.Server() - s2
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
	perRow := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(rows*b.N) }
	b.ReportMetric(perRow(importCPU[0]), "import-client-µs/row")
	b.ReportMetric(perRow(importCPU[1]), "import-server-µs/row")
	b.ReportMetric(perRow(indexedCPU[0]), "rawcopy_indexed-client-µs/row")
	b.ReportMetric(perRow(indexedCPU[1]), "rawcopy_indexed-server-µs/row")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
