package fault

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// TestThreeReplicasKill9Leader: three `gantry serve` processes on one
// database with GANTRY_REPLICAS=on, 8 clients spread over them. Every
// projector, the outbox and the scheduled jobs are active in exactly one
// process at a time. The process that leads (the scheduler and the most
// projectors) is killed with SIGKILL under load: the others take every
// leadership over within 5 s, the projectors' lag is back under 1 s within
// 10 s, and in the end nothing is lost, nothing is applied twice (views
// equal a full rebuild), every mail went out, and every key is answered.
func TestThreeReplicasKill9Leader(t *testing.T) {
	box, smtpAddr := smtptest.Start(t)
	dbURL := pgtest.URL(t)
	var servers []*server
	for i := 0; i < 3; i++ {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", fmt.Sprintf("gantry-%d", i)) // pg_locks tells which process leads
		u.RawQuery = q.Encode()
		s := newServer(t, u.String(), smtpAddr)
		s.env = append(s.env, "GANTRY_REPLICAS=on", "GANTRY_JOB_EVERY=300ms")
		s.start()
		servers = append(servers, s)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// leaders counts, per process, the leadership locks it holds (projectors
	// and the scheduler) and says who holds the scheduler's.
	leaders := func() (held map[string]int, scheduler string) {
		rows, err := conn.Query(ctx, `WITH k AS (
  SELECT name, hashtextextended('gantry projector ' || name, 0) AS h FROM projection_checkpoints
  UNION ALL SELECT 'scheduler', hashtextextended('gantry scheduler', 0))
SELECT a.application_name, k.name = 'scheduler'
FROM pg_locks l JOIN k ON l.objid = (k.h & 4294967295)::oid AND l.classid = ((k.h >> 32) & 4294967295)::oid
JOIN pg_stat_activity a USING (pid)
WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() AND a.application_name LIKE 'gantry-%'`)
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		defer rows.Close()
		held = map[string]int{}
		for rows.Next() {
			var app string
			var sched bool
			if err := rows.Scan(&app, &sched); err != nil {
				t.Error(err)
				return nil, ""
			}
			held[app]++
			if sched {
				scheduler = app
			}
		}
		return held, scheduler
	}
	// One lock per projector (the outbox and the log's sequencer included)
	// and the scheduler's.
	locks := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) + 1 FROM projection_checkpoints`).Scan(&n); err != nil {
			t.Error(err)
		}
		return n
	}
	total := func(held map[string]int) (n int) {
		for _, v := range held {
			n += v
		}
		return n
	}
	var held map[string]int
	var sched string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if held, sched = leaders(); total(held) >= locks() && total(held) > 8 && sched != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaderships not all taken: %v (scheduler %q)", held, sched)
		}
	}
	if total(held) != locks() {
		t.Fatalf("%d leadership locks held, want %d: %v", total(held), locks(), held)
	}
	schedulerLeaders := func(alive []*server) (n float64) {
		for _, s := range alive {
			n += metric(t, s.opsURL(), "gantry_scheduler_leader")
		}
		return n
	}
	if n := schedulerLeaders(servers); n != 1 {
		t.Fatalf("%v processes run the scheduled jobs, want 1", n)
	}
	// The leader: the scheduler's process, or else the one with most locks.
	leader := -1
	for i := range servers {
		if fmt.Sprintf("gantry-%d", i) == sched {
			leader = i
		}
	}
	t.Logf("leaderships before the kill: %v, scheduler in %s", held, sched)

	var (
		mu    sync.Mutex
		alive = append([]*server(nil), servers...)
		rr    atomic.Int64
	)
	base := func() string {
		mu.Lock()
		defer mu.Unlock()
		return alive[int(rr.Add(1))%len(alive)].url()
	}
	var failover, lagBack time.Duration
	kill := func() {
		killed := time.Now()
		servers[leader].kill()
		mu.Lock()
		alive = append(alive[:0:0], servers[:leader]...)
		alive = append(alive, servers[leader+1:]...)
		mu.Unlock()
		for {
			h, sc := leaders()
			if total(h) >= locks() && sc != "" && sc != sched && h[sched] == 0 {
				failover = time.Since(killed)
				t.Logf("leaderships after the kill: %v, scheduler in %s", h, sc)
				break
			}
			if time.Since(killed) > 5*time.Second {
				t.Errorf("no failover within 5 s of the kill: %v (scheduler %q)", h, sc)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for {
			asked := time.Since(killed) // the status tells how things were when it was asked
			out, err := alive[0].cliErr("projections", "status")
			if err == nil && lagUnder(out, 1.0) {
				lagBack = asked
				break
			}
			if asked > 10*time.Second {
				t.Errorf("lag not back under 1 s within 10 s of the kill:\n%s", out)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if lagBack > 10*time.Second {
			t.Errorf("lag back under 1 s only %s after the kill", lagBack.Round(time.Millisecond))
		}
	}
	reqs := applications(commandsSent)
	start := time.Now()
	acked := load(base, reqs, clients, []int{commandsSent / 3}, kill)
	if n := schedulerLeaders(alive); n != 1 {
		t.Errorf("after the kill %v processes run the scheduled jobs, want 1", n)
	}
	retried, stuck := retry(t, alive[0].url(), reqs)
	f := check(t, alive[0], dbURL, reqs, acked, retried, stuck, box)
	t.Logf("3 replicas, kill -9 of the leader under load: %s; failover of every leadership after %s, lag under 1 s after %s",
		f, failover.Round(time.Millisecond), lagBack.Round(time.Millisecond))
	alive[1].stop() // one process left: it leads everything again, and the rebuild runs beside it alone
	viewsEqualRebuild(t, alive[0], dbURL)
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// lagUnder reports whether `gantry projections status` shows every
// projector running with less than max seconds of lag.
func lagUnder(status string, max float64) bool {
	rows := 0
	for _, l := range strings.Split(strings.TrimSpace(status), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] == "PROJECTOR" || f[0] == "delivery" || strings.HasPrefix(l, "{") {
			continue
		}
		rows++
		secs, err := strconv.ParseFloat(f[4], 64)
		if err != nil || f[1] != "running" || secs >= max {
			return false
		}
	}
	return rows > 0
}
