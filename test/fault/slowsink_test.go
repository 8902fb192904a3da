package fault

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// TestSlowOrDeadMailServerStallsNothing: with the mail server answering
// every mail 200 ms late, or down, no transaction is held open while a mail
// is delivered, so the log's readable horizon (the age of the oldest open
// transaction with an ID, gantry_xmin_horizon_age_seconds, sampled every
// 20 ms) and setup_applications' lag stay far below what deliveries take:
// a subscriber that delivered inside its transaction would hold it for a
// whole batch of mails (up to 50 × 200 ms), and the views would wait for
// it. Commands keep being answered, and every mail arrives in the end, after
// the dead server comes up too. A structural test, not a timed one: it
// asserts where transactions are held, not how fast commands are. The
// longest idle-in-transaction spell of a Gantry session is reported.
func TestSlowOrDeadMailServerStallsNothing(t *testing.T) {
	for _, down := range []bool{false, true} {
		name := "slow_200ms"
		if down {
			name = "down"
		}
		t.Run(name, func(t *testing.T) { slowSink(t, down) })
	}
}

func slowSink(t *testing.T, down bool) {
	const n = 60
	box := &smtptest.Inbox{Delay: 200 * time.Millisecond}
	addr := freePort(t)
	if !down {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		box.Serve(t, ln)
	}
	dbURL := pgtest.URL(t)
	s := newServer(t, dbURL, addr)
	s.start()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The watcher has a connection of its own: a pgx.Conn serves one
	// goroutine at a time.
	watch, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)

	// The watcher samples every 20 ms until stopped.
	var (
		mu                          sync.Mutex
		idleMax, horizonMax, lagMax float64
		idleWho                     string
		samples                     int
	)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var idle float64
			var who string
			err := watch.QueryRow(ctx, `SELECT coalesce(extract(epoch FROM now() - state_change), 0)::float8, coalesce(left(query, 120), '')
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'
ORDER BY state_change LIMIT 1`).Scan(&idle, &who)
			if err != nil && err != pgx.ErrNoRows {
				continue
			}
			horizon, _ := metricValue(s.opsURL(), "gantry_xmin_horizon_age_seconds")
			lag, _ := metricValue(s.opsURL(), `gantry_projection_lag_seconds{projector="setup_applications"}`)
			mu.Lock()
			samples++
			if idle > idleMax {
				idleMax, idleWho = idle, who
			}
			horizonMax, lagMax = max(horizonMax, horizon), max(lagMax, lag)
			mu.Unlock()
		}
	}()
	reqs := applications(2 * n)
	load(s.url, reqs[:n], clients, nil)
	// More commands, one at a time, while the mails crawl out (or wait).
	for _, r := range reqs[n:] {
		if a := send(s.url(), r); a.status != 201 {
			t.Fatalf("command while the mail server is slow or down: %d %s", a.status, a.problem)
		}
	}
	for _, r := range reqs[:n] {
		if r.status != 201 {
			t.Fatalf("command while the mail server is slow or down: %d", r.status)
		}
	}
	if down {
		// Every mail waits in bus.retries; none is lost, none is poisoned.
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var waiting int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM bus.retries WHERE handler = 'mail_setup_application_completed'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting == len(reqs) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d mails wait for the dead server", waiting, len(reqs))
			}
		}
		ln, err := net.Listen("tcp", addr) // the server comes up
		if err != nil {
			t.Fatal(err)
		}
		box.Serve(t, ln)
	}
	for deadline := time.Now().Add(120 * time.Second); len(box.Mails()) < len(reqs); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails arrived", len(box.Mails()), len(reqs))
		}
	}
	close(stop)
	<-watched
	t.Logf("%d samples: longest idle-in-transaction %.3f s (%q), horizon age max %.3f s, setup_applications lag max %.3f s; %d mails",
		samples, idleMax, idleWho, horizonMax, lagMax, len(box.Mails()))
	if samples < 50 {
		t.Fatalf("only %d samples", samples)
	}
	// Bounds well below one batch of slow deliveries (several seconds), with
	// room for a loaded machine.
	if horizonMax >= 2 {
		t.Errorf("the readable horizon was held back %.3f s (longest idle-in-transaction session: %.3f s, %q)", horizonMax, idleMax, idleWho)
	}
	if lagMax >= 2 {
		t.Errorf("setup_applications lagged %.3f s behind", lagMax)
	}
}

// metricValue reads one sample of /metrics (from any goroutine).
func metricValue(base, name string) (float64, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strconv.ParseFloat(strings.TrimSpace(l[len(name):]), 64)
		}
	}
	return 0, nil
}
