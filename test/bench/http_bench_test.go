package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// httpConns is the number of client connections of the HTTP benchmarks.
const httpConns = 16

// server is `gantry serve` in this process: app.Build with the default
// settings (bcrypt cost, rate limits, durable commits), its production
// http.Server on a loopback port, a mail server that accepts everything.
// The rate limits stay on: the benchmark client plays a trusted load
// balancer (GANTRY_TRUSTED_PROXIES=127.0.0.1/32) that forwards each
// request of many clients with their address in X-Forwarded-For (from the
// 2001:db8::/32 documentation range), so the per-address limits count each
// simulated client separately, as they would behind a real balancer.
type server struct {
	a      *app.App
	url    string
	client *http.Client
	seq    atomic.Int64
	inbox  *smtptest.Inbox // the healthy mail server of startServer (nil otherwise)
}

func startServer(b *testing.B) *server {
	b.Helper()
	inbox, smtpAddr := smtptest.Start(b)
	s := startServerMail(b, smtpAddr)
	s.inbox = inbox
	return s
}

// settle waits until the work a burst of applied commands left behind is
// done: every projector has reached the newest position and, with a
// healthy mail server, at least mails have arrived. A paced run measured
// right after a burst at full rate would otherwise measure the burst's
// backlog (mails rendered, the log sequenced), not the paced rate.
func settle(b *testing.B, s *server, mails int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, body, posText := s.do("POST", "/v1/applications", "", applyBody)
	pos, err := es.ParsePosition(posText)
	if code != 201 || err != nil {
		b.Fatalf("settle: %d %q: %s", code, posText, body)
	}
	if err := s.a.Runner.WaitFor(ctx, pos); err != nil {
		b.Fatalf("settle: %v", err)
	}
	for s.inbox != nil && len(s.inbox.All()) < mails {
		select {
		case <-ctx.Done():
			b.Fatalf("settle: %d of %d mails arrived", len(s.inbox.All()), mails)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// startServerMail is startServer with the mail server at smtpAddr.
func startServerMail(b *testing.B, smtpAddr string) *server {
	b.Helper()
	cfg := app.Config{DatabaseURL: pgtest.URL(b), HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: time.Duration(envInt("BENCH_POLL_MS", 50)) * time.Millisecond,
		SMTPAddr: smtpAddr, MailFrom: "noreply@gantry.example", EDIDir: b.TempDir(), PublicURL: "http://gantry.example",
		Extra: map[string]string{}}
	cfg.TestKeys()
	cfg.TokenTTL = time.Hour
	cfg.Security.Limits = api.DefaultLimits()
	var err error
	if cfg.Security.TrustedProxies, err = api.ParseTrustedProxies("127.0.0.1/32"); err != nil {
		b.Fatal(err)
	}
	clock := commands.NewManualClock(time.Date(2026, 11, 2, 10, 0, 0, 0, domain.Tokyo))
	a, err := app.Build(cfg, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := a.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() { _ = hs.Close(); cancel(); <-done; a.Close() })
	s := &server{a: a, url: "http://" + ln.Addr().String(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: httpConns, MaxConnsPerHost: httpConns}}}
	for i := 0; ; i++ {
		if code, _, _ := s.do("GET", "/readyz", "", nil); code == 200 {
			break
		}
		if i > 600 {
			b.Fatal("gantry not ready")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return s
}

// do sends a request as the next simulated client; it answers the status,
// the body and the Gantry-Position header.
func (s *server) do(method, path, token string, body []byte) (int, []byte, string) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	n := s.seq.Add(1)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("2001:db8::%x:%x", n>>16, n&0xffff))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, []byte(err.Error()), ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header.Get(api.HeaderPosition)
}

var applyBody = []byte(`{"details":{"applicant":{"name":"山田太郎","address":"東京都品川区1-2-3","phone":"03-1234-5678","email":"taro.yamada@example.jp"},"vehicle_user":"山田太郎"},` +
	`"acceptances":{"personal_data_policy":true,"etc_system_terms":true,"dsrc_terms":true,"probe_data_policy":true},"units":1}`)

// latencies runs total requests over httpConns goroutines; each request
// must answer want. It returns the rate and the sorted latencies.
func latencies(b *testing.B, total int, want int, req func(i int) (int, []byte)) (float64, []time.Duration) {
	b.Helper()
	lat := make([]time.Duration, total)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range httpConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				t0 := time.Now()
				code, body := req(i)
				lat[i] = time.Since(t0)
				if code != want {
					failed.CompareAndSwap(nil, fmt.Sprintf("%d: %s", code, body))
					return
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("a request answered %v", f)
	}
	rate := float64(total) / time.Since(start).Seconds()
	slices.Sort(lat)
	return rate, lat
}

func pct(lat []time.Duration, p float64) float64 {
	return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
}

// reportCPU adds the CPU per request of this process (client and server
// together) and of PostgreSQL between two samples.
func reportCPU(b *testing.B, n int, c0, s0, c1, s1 time.Duration, prefix string) {
	b.ReportMetric(float64((c1-c0).Microseconds())/float64(n)/1000, prefix+"gantry-cpu-ms/req")
	b.ReportMetric(float64((s1-s0).Microseconds())/float64(n)/1000, prefix+"postgres-cpu-ms/req")
}

// BenchmarkHTTPApply: POST /v1/applications at 16 connections with the
// default settings (target ≥ 400 req/s, p99 < 100 ms), then the append →
// view lag: applications at 70 % of the measured rate, each answer's
// Gantry-Position waited for by every projector (target p99 < 100 ms).
// BENCH_APPLY_N sets the number of applications (default 1,000);
// BENCH_LAG_RATE, if set, the lag run's rate per second instead of 70 %.
func BenchmarkHTTPApply(b *testing.B) {
	s := startServer(b)
	cpu := pgtest.NewCPUMeter(b, s.a.Pool)
	n := envInt("BENCH_APPLY_N", 1000)
	// Warm up: connections, prepared statements, template caches.
	latencies(b, 2*httpConns, 201, func(int) (int, []byte) {
		code, body, _ := s.do("POST", "/v1/applications", "", applyBody)
		return code, body
	})
	c0, s0 := cpu.Sample()
	rate, lat := latencies(b, n, 201, func(int) (int, []byte) {
		code, body, _ := s.do("POST", "/v1/applications", "", applyBody)
		return code, body
	})
	c1, s1 := cpu.Sample()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	reportCPU(b, n, c0, s0, c1, s1, "")

	// Lag at 70 % of that rate, for about 5 s (at least 100 commands),
	// once the burst's backlog is done (every mail of the 2*httpConns+n+1
	// applications sent, every projector at the head).
	settle(b, s, 2*httpConns+n+1)
	paced := max(0.7*rate, 1)
	if r := envInt("BENCH_LAG_RATE", 0); r > 0 { // a fixed rate instead
		paced = float64(r)
	}
	lags, viewLags := lagRun(b, s, paced, max(100, int(5*paced)))
	b.ReportMetric(paced, "lag-run-req/s")
	b.ReportMetric(pct(lags, 0.50), "lag-p50-ms")
	b.ReportMetric(pct(lags, 0.99), "lag-p99-ms")
	b.ReportMetric(pct(viewLags, 0.50), "view-lag-p50-ms")
	b.ReportMetric(pct(viewLags, 0.99), "view-lag-p99-ms")
}

// lagRun sends m applications at rate per second (at most httpConns in
// flight) and returns the sorted append → view lags: from each answer
// until every projector of the runner (Runner.WaitFor: the 9 views, the
// outbox and the transparency log's sequencer) has processed its
// Gantry-Position, and until the 9 views alone have.
func lagRun(b *testing.B, s *server, rate float64, m int) (all, views []time.Duration) {
	b.Helper()
	gap := time.Duration(float64(time.Second) / rate)
	lags, viewLags := make([]time.Duration, m), make([]time.Duration, m)
	var wg sync.WaitGroup
	var failed atomic.Value
	tick := time.NewTicker(gap)
	defer tick.Stop()
	sem := make(chan struct{}, httpConns)
	for i := range m {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, posText := s.do("POST", "/v1/applications", "", applyBody)
			<-sem
			answered := time.Now()
			pos, err := es.ParsePosition(posText)
			if code != 201 || err != nil {
				failed.CompareAndSwap(nil, fmt.Sprintf("%d %q: %s", code, posText, body))
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.a.Runner.WaitForOnly(ctx, pos, isView); err != nil {
				failed.CompareAndSwap(nil, err.Error())
				return
			}
			viewLags[i] = time.Since(answered)
			if err := s.a.Runner.WaitFor(ctx, pos); err != nil {
				failed.CompareAndSwap(nil, err.Error())
				return
			}
			lags[i] = time.Since(answered)
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("lag run: %v", f)
	}
	slices.Sort(lags)
	slices.Sort(viewLags)
	return lags, viewLags
}

// isView tells the projectors that build views (what queries read) from the
// outbox and the transparency log's sequencer.
func isView(name string) bool { return name != bus.OutboxName && name != tlog.SequencerName }

// BenchmarkHTTPReads: GET /v1/my/application (16 customers, each with its
// own token) and GET /v1/cards/:card (8 cards of one contract, operator
// token) at 16 connections (target ≥ 5,000 req/s, p99 < 20 ms each).
// BENCH_READS_N sets the requests per endpoint (default 5,000).
func BenchmarkHTTPReads(b *testing.B) {
	s := startServer(b)
	cpu := pgtest.NewCPUMeter(b, s.a.Pool)
	n := envInt("BENCH_READS_N", 5000)
	tokens := make([]string, httpConns)
	for i := range tokens {
		code, body, _ := s.do("POST", "/v1/applications", "", applyBody)
		var applied struct{ QR string }
		if code != 201 || json.Unmarshal(body, &applied) != nil {
			b.Fatalf("apply: %d %s", code, body)
		}
		login, _ := json.Marshal(map[string]string{"qr": applied.QR})
		code, body, _ = s.do("POST", "/v1/auth/customer/login", "", login)
		var tok struct{ Token string }
		if code != 200 || json.Unmarshal(body, &tok) != nil {
			b.Fatalf("login: %d %s", code, body)
		}
		tokens[i] = tok.Token
		if code, body, _ := s.do("GET", "/v1/my/application", tok.Token, nil); code != 200 {
			b.Fatalf("my application: %d %s", code, body)
		}
	}
	// Cards: a lease, its contract, 8 cards.
	admin := s.a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"})
	lease := filepath.Join(b.TempDir(), "leases.csv")
	vehicles := []string{"品川 300 あ 12-34", "品川 300 あ 56-78", "品川 300 い 90-12", "品川 300 う 11-11", "品川 300 う 22-22", "品川 300 う 33-33", "品川 300 う 44-44", "品川 300 う 55-55"}
	csv := "contract,customer_name,start,end,vehicles\nL-2026-001,株式会社 山田運輸,2026-01-01,2028-03-31,"
	for i, v := range vehicles {
		if i > 0 {
			csv += ";"
		}
		csv += v
	}
	if err := os.WriteFile(lease, []byte(csv+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.CardsCLI(context.Background(), s.a, []string{"lease", "import", lease}, &out); err != nil {
		b.Fatalf("lease import: %v %s", err, out.String())
	}
	contract, _ := json.Marshal(map[string]string{"contract": "L-2026-001", "customer_name": "株式会社　山田運輸", "alpha_name": "Yamada Unyu Co., Ltd.",
		"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ヤマダウンユ"})
	if code, body, _ := s.do("POST", "/v1/contracts", admin, contract); code != 201 {
		b.Fatalf("contract: %d %s", code, body)
	}
	cards := make([]string, len(vehicles))
	for i, v := range vehicles {
		req, _ := json.Marshal(map[string]string{"contract": "L-2026-001", "vehicle": v, "card_type": "BLUE01"})
		code, body, _ := s.do("POST", "/v1/cards", admin, req)
		var c struct{ Card string }
		if code != 201 || json.Unmarshal(body, &c) != nil || c.Card == "" {
			b.Fatalf("card: %d %s", code, body)
		}
		cards[i] = c.Card
	}
	// The measured requests go through a client of their own, labelled
	// side=client in CPU profiles (its connections' goroutines too), so
	// `go tool pprof -tagfocus side=client` is the client's share and
	// -tagignore side=client the server's and the background work's.
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: httpConns, MaxConnsPerHost: httpConns}}
	stmts := newStatementCounter(b, s.a.Pool)
	for _, r := range []struct {
		name string
		req  func(i int) (int, []byte)
	}{
		{"my-application", func(i int) (int, []byte) {
			code, body, _ := s.do("GET", "/v1/my/application", tokens[i%len(tokens)], nil)
			return code, body
		}},
		{"card", func(i int) (int, []byte) {
			code, body, _ := s.do("GET", "/v1/cards/"+cards[i%len(cards)], admin, nil)
			return code, body
		}},
	} {
		var (
			rate           float64
			lat            []time.Duration
			c0, s0, c1, s1 time.Duration
			q0, q1         int64
		)
		pprof.Do(context.Background(), pprof.Labels("side", "client", "phase", r.name), func(context.Context) {
			latencies(b, 2*httpConns, 200, r.req) // warm up
			c0, s0 = cpu.Sample()
			q0 = stmts.count()
			rate, lat = latencies(b, n, 200, r.req)
			c1, s1 = cpu.Sample()
			q1 = stmts.count()
		})
		if q1 >= 0 && q0 >= 0 {
			b.ReportMetric(float64(q1-q0)/float64(n), r.name+"-statements/req")
		}
		b.ReportMetric(rate, r.name+"-req/s")
		b.ReportMetric(pct(lat, 0.50), r.name+"-p50-ms")
		b.ReportMetric(pct(lat, 0.99), r.name+"-p99-ms")
		reportCPU(b, n, c0, s0, c1, s1, r.name+"-")
	}
}
