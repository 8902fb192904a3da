package bench

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/test/smtptest"
)

// BenchmarkHTTPApplySlowSink: a slow or dead sink stalls nothing. Three
// servers run side by side in one run, one with a healthy mail server, one
// whose mail server answers every mail 200 ms late, one whose mail server is
// down (nothing listens on its port). Each gets POST /v1/applications at 16
// connections (every application mails a link), then applications at 70 %
// of the healthy rate for the append → view lag; the modes take turns in 3
// rounds, so drift in the machine's speed hits all three alike. Target: the
// slow and down runs within 10 % of the healthy one in req/s and p99, and
// lag p99 < 100 ms in each. BENCH_SINK_N sets the applications per mode for
// the rate (default 1,500).
func BenchmarkHTTPApplySlowSink(b *testing.B) {
	type mode struct {
		name string
		s    *server
		box  *smtptest.Inbox
		took time.Duration
		lat  []time.Duration
		lags []time.Duration
		// viewLags: until the 9 views alone are there (see isView).
		viewLags []time.Duration
	}
	healthy, healthyAddr := smtptest.Start(b)
	slow := &smtptest.Inbox{Delay: 200 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	slow.Serve(b, ln)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there: connections are refused
	modes := []*mode{
		{name: "healthy", s: startServerMail(b, healthyAddr), box: healthy},
		{name: "slow", s: startServerMail(b, ln.Addr().String()), box: slow},
		{name: "down", s: startServerMail(b, deadAddr)},
	}
	const rounds = 3
	n := envInt("BENCH_SINK_N", 1500) / rounds
	apply := func(s *server) func(int) (int, []byte) {
		return func(int) (int, []byte) {
			code, body, _ := s.do("POST", "/v1/applications", "", applyBody)
			return code, body
		}
	}
	// settle waits until m's projectors have caught up, so that one mode's
	// leftover work does not fall into the next one's turn.
	settle := func(m *mode) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		head, err := m.s.a.Store.Head(ctx)
		if err == nil {
			err = m.s.a.Runner.WaitFor(ctx, head)
		}
		if err != nil {
			b.Fatalf("%s: projectors did not catch up: %v", m.name, err)
		}
	}
	for _, m := range modes {
		latencies(b, 2*httpConns, 201, apply(m.s)) // warm up
		settle(m)
	}
	for range rounds {
		for _, m := range modes {
			start := time.Now()
			_, lat := latencies(b, n, 201, apply(m.s))
			m.took += time.Since(start)
			m.lat = append(m.lat, lat...)
			settle(m)
		}
	}
	rate := func(m *mode) float64 { return float64(len(m.lat)) / m.took.Seconds() }
	paced := max(0.7*rate(modes[0]), 1)
	for range rounds {
		for _, m := range modes {
			all, views := lagRun(b, m.s, paced, max(50, int(2*paced)))
			m.lags, m.viewLags = append(m.lags, all...), append(m.viewLags, views...)
			settle(m)
		}
	}
	for _, m := range modes {
		slices.Sort(m.lat)
		slices.Sort(m.lags)
		slices.Sort(m.viewLags)
		b.ReportMetric(rate(m), m.name+"-req/s")
		b.ReportMetric(pct(m.lat, 0.99), m.name+"-p99-ms")
		b.ReportMetric(pct(m.lags, 0.99), m.name+"-lag-p99-ms")
		b.ReportMetric(pct(m.viewLags, 0.99), m.name+"-view-lag-p99-ms")
	}
	b.ReportMetric(paced, "lag-run-req/s")
	for _, m := range modes[1:] {
		b.ReportMetric(rate(m)/rate(modes[0]), m.name+"/healthy-req/s")
		b.ReportMetric(pct(m.lat, 0.99)/pct(modes[0].lat, 0.99), m.name+"/healthy-p99")
	}
	// The sinks really were healthy, slow and down: the healthy inbox has
	// mails, the slow one fewer (it takes 200 ms each), and the down
	// server's mails wait in bus.retries.
	if len(healthy.All()) == 0 {
		b.Fatal("the healthy mail server received no mail")
	}
	if len(slow.All()) >= len(healthy.All()) {
		b.Fatalf("the slow mail server kept up (%d mails, healthy %d): it was not slow", len(slow.All()), len(healthy.All()))
	}
	var waiting int
	if err := modes[2].s.a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM bus.retries`).Scan(&waiting); err != nil || waiting == 0 {
		b.Fatalf("no mail waits for the dead mail server (%d, %v)", waiting, err)
	}
	b.ReportMetric(float64(len(slow.All())), "slow-mails-delivered")
	b.ReportMetric(float64(waiting), "down-mails-waiting")
}
