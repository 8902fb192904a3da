// Package bench measures Gantry against raw PostgreSQL on the same database in
// the same run (make bench). Durability is the server default
// (synchronous_commit on), unlike the unit tests' databases.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type cardUsed struct {
	Card string `json:"card"`
	Toll int64  `json:"toll"`
}

func (cardUsed) EventType() string { return "bench.card_used" }

func setup(b *testing.B) (*pgxpool.Pool, commands.Streams, *postgres.Store, *es.Codec) {
	url := pgtest.URL(b)
	cfg, _ := pgxpool.ParseConfig(url)
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	// Benchmarks measure durable commits.
	if _, err := pool.Exec(context.Background(), `SELECT 1`); err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pool.Close()
	pool, _ = pgxpool.NewWithConfig(context.Background(), cfg)
	b.Cleanup(pool.Close)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[cardUsed](reg, 1)
	es.Register[cardSeen](reg, 1)
	store := postgres.NewStore(pool, commands.SystemClock{})
	codec := es.NewCodec(reg, sealer)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE raw_inserts (id bigserial PRIMARY KEY, stream text NOT NULL, data json NOT NULL, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	return pool, commands.Streams{Store: store, Codec: codec}, store, codec
}

// run does total operations over `writers` goroutines and returns how long
// they took.
func run(writers, total int, op func(w, i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > total {
					return
				}
				if err := op(w, i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		return 0, e
	}
	return time.Since(start), nil
}

// BenchmarkAppendVsRawInsert: single-event command appends (each to its own
// stream, expected version checked, hash chain, sealed-data codec, group
// commit) against a raw single-row INSERT-and-commit on the same database,
// at 1, 8 and 32 concurrent writers. The two alternate over 5 rounds so that
// the machine's drift hits both alike; reported: appends/s, inserts/s (over
// all rounds) and their ratio, and the CPU time per operation of this
// process and of the PostgreSQL server on each side (which, unlike the
// rates, hardly depends on what else runs on the machine).
func BenchmarkAppendVsRawInsert(b *testing.B) {
	pool, streams, _, _ := setup(b)
	ctx := context.Background()
	cpu := pgtest.NewCPUMeter(b, pool)
	for _, writers := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			per := 1000 * max(1, writers/4)
			var rawTime, appTime, rawClient, rawServer, appClient, appServer time.Duration
			for round := range 5 {
				c0, s0 := cpu.Sample()
				d, err := run(writers, per, func(w, i int) error {
					_, err := pool.Exec(ctx, `INSERT INTO raw_inserts (stream, data) VALUES ($1, $2)`, fmt.Sprintf("raw-%d-%d-%d", writers, round, i), fmt.Sprintf(`{"card":"4000000000000002","toll":%d}`, i))
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				rawTime += d
				c1, s1 := cpu.Sample()
				rawClient, rawServer = rawClient+c1-c0, rawServer+s1-s0
				d, err = run(writers, per, func(w, i int) error {
					_, err := streams.Append(ctx, fmt.Sprintf("card-%d-%d-%d", writers, round, i), 0, cardUsed{Card: "4000000000000002", Toll: int64(i)})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				appTime += d
				c2, s2 := cpu.Sample()
				appClient, appServer = appClient+c2-c1, appServer+s2-s1
			}
			raw, app := float64(5*per)/rawTime.Seconds(), float64(5*per)/appTime.Seconds()
			b.ReportMetric(app, "appends/s")
			b.ReportMetric(raw, "inserts/s")
			b.ReportMetric(app/raw, "ratio")
			us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(5*per) }
			b.ReportMetric(us(appClient), "append-client-µs/op")
			b.ReportMetric(us(appServer), "append-server-µs/op")
			b.ReportMetric(us(rawClient), "raw-client-µs/op")
			b.ReportMetric(us(rawServer), "raw-server-µs/op")
			b.ReportMetric(us(rawClient+rawServer)/us(appClient+appServer), "cpu-ratio")
		})
	}
}

type sumProjector struct{}

func (sumProjector) Name() string { return "bench_sum" }

// cardSeen is an event type the sum projector does not handle, with a
// payload of about 2 KB.
type cardSeen struct {
	Card  string `json:"card"`
	Gate  string `json:"gate"`
	Trace []int  `json:"trace"`
}

func (cardSeen) EventType() string { return "bench.card_seen" }

// selectiveSum is sumProjector declaring the one type it handles.
type selectiveSum struct{ sumProjector }

func (selectiveSum) Name() string         { return "bench_sum_selective" }
func (selectiveSum) EventTypes() []string { return projections.TypesOf(cardUsed{}) }

// allSum is sumProjector under another name (its own checkpoint), taking
// every event as before projectors declared their types.
type allSum struct{ sumProjector }

func (allSum) Name() string { return "bench_sum_all" }
func (sumProjector) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS totals (card text PRIMARY KEY, n bigint NOT NULL, toll bigint NOT NULL)`)
	return err
}

// Apply folds the batch in memory and writes one upsert per card.
func (sumProjector) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	type agg struct{ n, toll int64 }
	m := map[string]*agg{}
	for _, e := range evs {
		c, ok := e.Payload.(cardUsed)
		if !ok {
			continue
		}
		a := m[c.Card]
		if a == nil {
			a = &agg{}
			m[c.Card] = a
		}
		a.n++
		a.toll += c.Toll
	}
	var cards []string
	var ns, tolls []int64
	for k, a := range m {
		cards, ns, tolls = append(cards, k), append(ns, a.n), append(tolls, a.toll)
	}
	if len(cards) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO totals SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
ON CONFLICT (card) DO UPDATE SET n = totals.n + excluded.n, toll = totals.toll + excluded.toll`, cards, ns, tolls)
	return err
}

// BenchmarkProjector: a simple projector catching up on a pre-filled log
// (target ≥ 150,000 events/s on 1,000,000 events, peak RSS < 300 MB).
// PROJ_BENCH_EVENTS sets the log size (default 200,000). The catch-up runs
// under the pprof label phase=catchup (go tool pprof -tagfocus
// phase=catchup) so that its profile is apart from the pre-fill's.
func BenchmarkProjector(b *testing.B) {
	pool, _, store, codec := setup(b)
	ctx := context.Background()
	n := envInt("PROJ_BENCH_EVENTS", 200_000) / 500 * 500
	// Pre-fill through the store's own append path, 500 events per append.
	batch := make([]es.EventData, 500)
	for s := 0; s < n/500; s++ {
		for i := range batch {
			d, _ := codec.Encode(ctx, cardUsed{Card: fmt.Sprintf("card-%d", i%100), Toll: 100})
			batch[i] = d[0]
		}
		if _, err := store.Append(ctx, fmt.Sprintf("fill-%d", s), es.NoStream, es.Metadata{}, batch...); err != nil {
			b.Fatal(err)
		}
	}
	head, _ := store.Head(ctx)
	var rate, peakMB float64
	pprof.Do(ctx, pprof.Labels("phase", "catchup"), func(ctx context.Context) {
		rate, peakMB = catchUpPeak(b, pool, store, codec, sumProjector{}, n, head)
	})
	var total int64
	_ = pool.QueryRow(ctx, `SELECT sum(n) FROM proj_bench_sum.totals`).Scan(&total)
	if total != int64(n) {
		b.Fatalf("projected %d events, want %d", total, n)
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(peakMB, "peak-heap-MB")
	b.ReportMetric(peakRSSMB(), "peak-rss-MB")
}

// peakRSSMB is this process's peak resident set (VmHWM) so far.
func peakRSSMB() float64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// catchUpPeak runs p alone from the start of the log to head and returns its
// rate and the peak heap in use meanwhile (sampled every 10 ms).
func catchUpPeak(b *testing.B, pool *pgxpool.Pool, store *postgres.Store, codec *es.Codec, p projections.Projector, n int, head es.Position) (rate float64, peakMB float64) {
	ctx := context.Background()
	runtime.GC()
	r := projections.NewRunner(pool, store, codec, slog.New(slog.NewTextHandler(io.Discard, nil)), p)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var peak uint64
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	start := time.Now()
	go r.Run(rctx)
	if err := r.WaitFor(ctx, head); err != nil {
		b.Fatal(err)
	}
	rate = float64(n) / time.Since(start).Seconds()
	cancel()
	close(done)
	return rate, float64(peak) / (1 << 20)
}

// BenchmarkProjectorSelective: a log where one event in four is of the type
// the projector handles and the others are 2 KB events of another type. The
// same projector catches up twice in one run: taking every event (as before
// projectors declared their types) and declaring its type (the runtime
// filters in SQL and decodes only wanted events). Reported: both rates
// (over all events of the log), their ratio and the peak heap of each.
func BenchmarkProjectorSelective(b *testing.B) {
	pool, _, store, codec := setup(b)
	ctx := context.Background()
	const n = 100_000
	trace := make([]int, 400)
	for i := range trace {
		trace[i] = 1000 + i
	}
	batch := make([]es.EventData, 500)
	for s := 0; s < n/500; s++ {
		for i := range batch {
			var e domain.Event = cardSeen{Card: fmt.Sprintf("card-%d", i%100), Gate: "Tokyo-IC", Trace: trace}
			if i%4 == 0 {
				e = cardUsed{Card: fmt.Sprintf("card-%d", i%100), Toll: 100}
			}
			d, _ := codec.Encode(ctx, e)
			batch[i] = d[0]
		}
		if _, err := store.Append(ctx, fmt.Sprintf("fill-%d", s), es.NoStream, es.Metadata{}, batch...); err != nil {
			b.Fatal(err)
		}
	}
	head, _ := store.Head(ctx)
	allRate, allPeak := catchUpPeak(b, pool, store, codec, allSum{}, n, head)
	selRate, selPeak := catchUpPeak(b, pool, store, codec, selectiveSum{}, n, head)
	for _, name := range []string{"bench_sum_all", "bench_sum_selective"} {
		var total int64
		_ = pool.QueryRow(ctx, `SELECT sum(n) FROM proj_`+name+`.totals`).Scan(&total)
		if total != n/4 {
			b.Fatalf("%s projected %d events, want %d", name, total, n/4)
		}
	}
	b.ReportMetric(allRate, "all-types-events/s")
	b.ReportMetric(selRate, "selective-events/s")
	b.ReportMetric(selRate/allRate, "ratio")
	b.ReportMetric(allPeak, "all-types-peak-heap-MB")
	b.ReportMetric(selPeak, "selective-peak-heap-MB")
}
