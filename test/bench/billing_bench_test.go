package bench_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/test/pgtest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkBillingRun: `gantry billing run` over BILLING_BENCH_CONTRACTS
// contracts (default 100) with BILLING_BENCH_CARDS cards (default 10,000,
// issued through the card command on 2026-10-01) and BILLING_BENCH_USAGE
// usage rows per month (default 500,000, COPied into usage_records for
// October and November 2026). October is billed in this process (so
// -cpuprofile shows the run); November by the built gantry binary under
// /usr/bin/time -v, in a process of its own: its wall time and peak RSS
// are reported. Every event stays under 64 KiB (the store refuses bigger
// ones).
//
//	go test ./test/bench -run '^$' -bench BenchmarkBillingRun -benchtime 1x -timeout 60m
func BenchmarkBillingRun(b *testing.B) {
	nContracts := envInt("BILLING_BENCH_CONTRACTS", 100)
	nCards := envInt("BILLING_BENCH_CARDS", 10_000)
	nUsage := envInt("BILLING_BENCH_USAGE", 500_000)
	perContract := (nCards + nContracts - 1) / nContracts

	url := pgtest.URL(b)
	cfg := app.Config{DatabaseURL: url, HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: 20 * time.Millisecond, EDIDir: b.TempDir()}
	cfg.TestKeys()
	cfg.TokenTTL = 400 * 24 * time.Hour
	cfg.Security.Limits = api.DefaultLimits()
	for k := range cfg.Security.Limits {
		cfg.Security.Limits[k] = api.Rates{Addr: api.Rate{N: 10_000_000, Per: time.Minute}, Target: api.Rate{N: 10_000_000, Per: time.Minute}}
	}
	clock := commands.NewManualClock(time.Date(2026, 10, 1, 10, 0, 0, 0, domain.Tokyo))
	a, err := app.Build(cfg, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	srv := httptest.NewServer(a.API.Echo())
	defer func() { srv.Close(); cancel(); <-done }()
	for i := 0; ; i++ {
		r, err := http.Get(srv.URL + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if i > 2000 {
			b.Fatal("app not ready")
		}
		time.Sleep(25 * time.Millisecond)
	}
	admin := a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "bench"})

	// Leases and contracts.
	began := time.Now()
	var leases bytes.Buffer
	leases.WriteString("contract,customer_name,start,end,vehicles\n")
	vehicles := make([][]string, nContracts)
	for c := range nContracts {
		for v := range perContract {
			vehicles[c] = append(vehicles[c], fmt.Sprintf("品川 %03d あ %02d-%02d", 100+c, v/100, v%100))
		}
		fmt.Fprintf(&leases, "L-2026-%04d,株式会社 ベンチ%d,2026-01-01,2030-03-31,%s\n", c, c, strings.Join(vehicles[c], ";"))
	}
	if _, err := a.Cards().Leases.Import(ctx, &leases); err != nil {
		b.Fatal(err)
	}
	for c := range nContracts {
		body, _ := json.Marshal(map[string]any{
			"contract": fmt.Sprintf("L-2026-%04d", c), "customer_name": fmt.Sprintf("株式会社 ベンチ%d", c), "alpha_name": "Bench Co., Ltd.",
			"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
			"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ベンチ"})
		req, _ := http.NewRequest("POST", srv.URL+"/v1/contracts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("conclude %d: %d %s", c, resp.StatusCode, out)
		}
	}

	// Cards, through the card command (8 at a time).
	issue := a.Cards().Service.Issue
	typ, err := card.ParseType("BLUE01")
	if err != nil {
		b.Fatal(err)
	}
	cards := make([][]string, nContracts)
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= nContracts*perContract || i >= nCards {
					return
				}
				c, v := i/perContract, i%perContract
				cn, _ := contract.ParseNumber(fmt.Sprintf("L-2026-%04d", c))
				vn, _ := contract.ParseVehicleNumber(vehicles[c][v])
				n, _, err := issue.Handle(commands.WithMetadata(ctx, es.Metadata{Actor: es.Actor{Role: "operator_admin", ID: "bench"}}), cmdcards.IssueCard{Contract: cn, Vehicle: vn, Type: typ})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				mu.Lock()
				cards[c] = append(cards[c], n.String()+"\t"+vn.String())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	issued := time.Since(began)

	// Usage rows for October and November, COPied.
	rows := func(month time.Month) pgx.CopyFromSource {
		i := 0
		return pgx.CopyFromFunc(func() ([]any, error) {
			if i >= nUsage {
				return nil, nil
			}
			c := i % nContracts
			k := cards[c][(i/nContracts)%len(cards[c])]
			num, veh, _ := strings.Cut(k, "\t")
			at := time.Date(2026, month, 1+i%28, 6+i%12, i%60, 0, 0, domain.Tokyo)
			i++
			return []any{"NEXCO-E", fmt.Sprintf("%d-%08d", month, i), num, veh, "東京", at, "厚木", at.Add(40 * time.Minute), int64(100 + i%2000), domain.DateOf(at).Start(), "bench"}, nil
		})
	}
	for _, m := range []time.Month{10, 11} {
		if _, err := a.Pool.CopyFrom(ctx, pgx.Identifier{"usage_records"},
			[]string{"operator", "record_id", "card", "vehicle", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll", "usage_date", "file_sha256"}, rows(m)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d contracts, %d cards in %s, %d usage rows per month (load average %s)", nContracts, nCards, issued.Round(time.Second), nUsage, loadavg())

	// October, in this process (profiled with -cpuprofile).
	clock.Set(time.Date(2026, 11, 1, 9, 0, 0, 0, domain.Tokyo))
	pgCPU := pgtest.NewCPUMeter(b, a.Pool).Server
	b.ResetTimer()
	t0 := time.Now()
	pg0 := pgCPU()
	// The CLI's billing handler, its ports timed (where the wall time goes).
	p := &phases{d: map[string]time.Duration{}}
	res, _, err := timed(a.Cards().Service.Billing, p).Handle(ctx, cmdcards.RunBilling{Month: money.MustYearMonth(2026, 10)})
	if err != nil {
		b.Fatalf("billing run: %v", err)
	}
	inProcess := time.Since(t0)
	pgInProcess := pgCPU() - pg0
	b.StopTimer()
	for _, o := range res {
		if o.Action != "issued" {
			b.Fatalf("outcome %+v", o)
		}
	}
	if len(res) != nContracts {
		b.Fatalf("%d invoices issued, want %d", len(res), nContracts)
	}
	b.Logf("in-process run (October, %d workers), time in the handler's ports (summed over workers): %v", app.BillingWorkers, p)
	srv.Close()
	cancel()
	<-done

	// The raw floor of a run, in the same run: read the month's usage rows
	// (one query) and COPY October's stored line texts (the fee lines; toll
	// lines are kept by reference, migration 02300) into a table shaped
	// like invoice_lines, from one connection.
	pool := a.Pool
	var lines [][]any
	lr, err := pool.Query(context.Background(), `SELECT document, part, seq, line FROM invoice_lines ORDER BY document, part, seq`)
	if err != nil {
		b.Fatal(err)
	}
	for lr.Next() {
		var d, pt, l string
		var sq int32
		if err := lr.Scan(&d, &pt, &sq, &l); err != nil {
			b.Fatal(err)
		}
		lines = append(lines, []any{d + "-raw", pt, sq, l})
	}
	lr.Close()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE raw_lines (LIKE invoice_lines INCLUDING INDEXES)`); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	ur, err := pool.Query(context.Background(), `SELECT record_id, operator, card, vehicle, entry_ic, entry_at, exit_ic, exit_at, toll FROM usage_records
		WHERE usage_date BETWEEN '2026-11-01' AND '2026-11-30' ORDER BY card, entry_at`)
	if err != nil {
		b.Fatal(err)
	}
	read := 0
	for ur.Next() {
		var id, op, cd, veh, in, outIC string
		var tin, tout time.Time
		var toll int64
		if err := ur.Scan(&id, &op, &cd, &veh, &in, &tin, &outIC, &tout, &toll); err != nil {
			b.Fatal(err)
		}
		read++
	}
	ur.Close()
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{"raw_lines"}, []string{"document", "part", "seq", "line"}, pgx.CopyFromRows(lines)); err != nil {
		b.Fatal(err)
	}
	raw := time.Since(t1)
	b.Logf("raw floor: read %d usage rows and COPY %d line texts in %s (load average %s)", read, len(lines), raw.Round(time.Millisecond), loadavg())

	// November, by the gantry binary in a process of its own.
	bin := filepath.Join(b.TempDir(), "gantry")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/gantry").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v %s", err, out)
	}
	cmd := exec.Command("/usr/bin/time", "-v", bin, "billing", "run", "2026-11")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "GANTRY_KEK="+base64.StdEncoding.EncodeToString(cfg.KEK), "GANTRY_TOKEN_KEY="+base64.StdEncoding.EncodeToString(cfg.TokenKey),
		"GANTRY_LOG_KEY="+app.TestLogKey, "GANTRY_EDI_DIR="+b.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	pg1 := pgCPU()
	if err := cmd.Run(); err != nil {
		b.Fatalf("gantry billing run: %v\n%s", err, tail(stderr.String(), 3000))
	}
	pgBinary := pgCPU() - pg1
	if n := strings.Count(stdout.String(), `"action": "issued"`); n != nContracts {
		b.Fatalf("binary: %d invoices issued, want %d\n%s", n, nContracts, tail(stdout.String(), 500))
	}
	wall, rss := timeField(stderr.String(), `Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)`), timeField(stderr.String(), `Maximum resident set size \(kbytes\): (\d+)`)
	user, sys := timeField(stderr.String(), `User time \(seconds\): (\S+)`), timeField(stderr.String(), `System time \(seconds\): (\S+)`)

	var biggest int
	if err := a.Pool.QueryRow(context.Background(), `SELECT max(octet_length(data::text)) FROM events`).Scan(&biggest); err != nil {
		b.Fatal(err)
	}
	if biggest >= es.MaxEventSize {
		b.Fatalf("an event holds %d bytes", biggest)
	}
	rssKB, _ := strconv.ParseFloat(rss, 64)
	b.ReportMetric(inProcess.Seconds()/raw.Seconds(), "run/raw-floor")
	b.ReportMetric(inProcess.Seconds(), "s/in-process-run")
	b.ReportMetric(float64(nUsage)/inProcess.Seconds(), "usage-rows/s")
	b.ReportMetric(rssKB/1024, "MB-peak-RSS(binary)")
	b.ReportMetric(pgBinary.Seconds(), "s-postgres-CPU(binary)")
	b.Logf("in-process run (October): %s, %.1f× the raw floor, PostgreSQL CPU %s; binary run (November): wall %s, user %ss, sys %ss, PostgreSQL CPU %s, peak RSS %s kB; largest event %d bytes; load average %s",
		inProcess.Round(time.Millisecond), inProcess.Seconds()/raw.Seconds(), pgInProcess.Round(10*time.Millisecond), wall, user, sys, pgBinary.Round(10*time.Millisecond), rss, biggest, loadavg())
}

func timeField(s, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return "?"
	}
	return m[1]
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
