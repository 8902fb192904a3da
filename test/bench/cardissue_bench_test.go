package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/gantry-etc/gantry/test/pgtest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
)

// cardIssueContracts is the number of contracts the cards are spread over
// (as `go run ./test/datagen files -contracts 10`).
const cardIssueContracts = 10

// BenchmarkHTTPCardIssue: POST /v1/cards at 16 connections on a fresh
// database, BENCH_CARDS_N cards (default 10,000) over 10 contracts, the
// way `test/datagen post` issues its data set (target ≥ 300/s sustained).
// It reports the overall rate, the rates of the first and the last 1,000
// cards answered and their ratio (a rate that falls with the number of
// cards shows as last/first < 1), p50/p99, the CPU per card of Gantry
// (client and server, one process) and of PostgreSQL, and how long after
// the last answer the printer EDI file held every card.
func BenchmarkHTTPCardIssue(b *testing.B) {
	s := startServer(b)
	cpu := pgtest.NewCPUMeter(b, s.a.Pool)
	n := envInt("BENCH_CARDS_N", 10_000)
	admin := s.a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"})
	vehicle := func(i int) string {
		return fmt.Sprintf("品川 %03d あ %02d-%02d", 300+i/10000, i/100%100, i%100)
	}
	contractOf := func(i int) int { return i * cardIssueContracts / n }
	contractNo := func(c int) string { return fmt.Sprintf("L-BC-%04d", c+1) }
	var csv strings.Builder
	csv.WriteString("contract,customer_name,start,end,vehicles\n")
	for c := range cardIssueContracts {
		var vs []string
		for i := range n {
			if contractOf(i) == c {
				vs = append(vs, vehicle(i))
			}
		}
		fmt.Fprintf(&csv, "%s,株式会社 ベンチ運輸 %04d,2026-01-01,2028-03-31,%s\n", contractNo(c), c+1, strings.Join(vs, ";"))
	}
	leases := filepath.Join(b.TempDir(), "leases.csv")
	if err := os.WriteFile(leases, []byte(csv.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.CardsCLI(context.Background(), s.a, []string{"lease", "import", leases}, &out); err != nil {
		b.Fatalf("lease import: %v %s", err, out.String())
	}
	for c := range cardIssueContracts {
		body, _ := json.Marshal(map[string]string{"contract": contractNo(c), "customer_name": fmt.Sprintf("株式会社　ベンチ運輸 %04d", c+1),
			"alpha_name": fmt.Sprintf("BENCH UNYU %04d CO., LTD.", c+1), "address": "東京都品川区1-2-3", "phone": "03-1234-5678",
			"representative": "山田 太郎", "bank_code": "0001", "branch_code": "123", "account_type": "ordinary",
			"account_number": fmt.Sprintf("%07d", c+1), "holder_kana": "ベンチウンユ"})
		if code, body, _ := s.do("POST", "/v1/contracts", admin, body); code != 201 {
			b.Fatalf("contract: %d %s", code, body)
		}
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]string{"contract": contractNo(contractOf(i)), "vehicle": vehicle(i), "card_type": "BLUE01"})
	}

	answered := make([]time.Time, n)
	lat := make([]time.Duration, n)
	// CPU samples when the k-th and the (n-k)-th card are answered: the
	// CPU per card of the first and the last k cards, which does not
	// depend on what else the machine runs.
	k := min(1000, n/2)
	var cpuAt [4]time.Duration
	var done atomic.Int64
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	c0, s0 := cpu.Sample()
	start := time.Now()
	for range httpConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				t0 := time.Now()
				code, body, _ := s.do("POST", "/v1/cards", admin, bodies[i])
				answered[i] = time.Now()
				lat[i] = answered[i].Sub(t0)
				switch done.Add(1) {
				case int64(k):
					cpuAt[0], cpuAt[1] = cpu.Sample()
				case int64(n - k):
					cpuAt[2], cpuAt[3] = cpu.Sample()
				}
				if code != 201 {
					failed.CompareAndSwap(nil, fmt.Sprintf("card %d: %d %s", i, code, body))
					return
				}
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	c1, s1 := cpu.Sample()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	slices.SortFunc(answered, time.Time.Compare)
	slices.Sort(lat)
	b.ReportMetric(float64(n)/end.Sub(start).Seconds(), "cards/s")
	if k >= 2 {
		rate := func(a, z int) float64 { return float64(z-a) / answered[z].Sub(answered[a]).Seconds() }
		first, last := rate(0, k-1), rate(n-k, n-1)
		b.ReportMetric(first, "first1k-cards/s")
		b.ReportMetric(last, "last1k-cards/s")
		b.ReportMetric(last/first, "last/first")
		perCard := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(k) / 1000 }
		firstCPU := perCard(cpuAt[0] - c0 + cpuAt[1] - s0)
		lastCPU := perCard(c1 - cpuAt[2] + s1 - cpuAt[3])
		b.ReportMetric(firstCPU, "first1k-cpu-ms/card")
		b.ReportMetric(lastCPU, "last1k-cpu-ms/card")
		b.ReportMetric(lastCPU/firstCPU, "last/first-cpu")
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	b.ReportMetric(float64((c1-c0).Microseconds())/float64(n)/1000, "gantry-cpu-ms/card")
	b.ReportMetric(float64((s1-s0).Microseconds())/float64(n)/1000, "postgres-cpu-ms/card")

	// The printer handler runs behind the issues: how long after the last
	// answer every card is in the day's file.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for {
		var written int
		if err := s.a.Pool.QueryRow(ctx, `SELECT count(*) FROM printer_edi WHERE written`).Scan(&written); err != nil {
			b.Fatal(err)
		}
		if written == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportMetric(time.Since(end).Seconds(), "printer-behind-s")
}
