package fault

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

const commandsSent = 1000

// kill -9 of `gantry serve` in the middle of 1,000 keyed applications from
// 8 clients; restart; retry every unanswered request with its key.
func TestKill9UnderLoad(t *testing.T) {
	box, smtpAddr := smtptest.Start(t)
	dbURL := pgtest.URL(t)
	s := newServer(t, dbURL, smtpAddr)
	s.start()
	reqs := applications(commandsSent)
	// Three kills; after the first two the server is started again at once,
	// so that the load goes on against it; after the last it stays down
	// until the load has run out.
	restart := func() { s.kill(); s.start() }
	start := time.Now()
	acked := load(s.url, reqs, clients, []int{commandsSent / 4, commandsSent / 2, 3 * commandsSent / 4}, restart, restart, func() { s.kill() })
	unanswered := 0
	for _, r := range reqs {
		if r.status != 201 {
			unanswered++
		}
	}
	if unanswered == 0 {
		t.Fatal("the kills came too late: every request was answered")
	}
	s.start()
	retried, stuck := retry(t, s.url(), reqs)
	t.Logf("load and retries took %s", time.Since(start).Round(time.Millisecond))
	f := check(t, s, dbURL, reqs, acked, retried, stuck, box)
	t.Logf("kill -9 (3 times) under load: %s", f)
	viewsEqualRebuild(t, s, dbURL)
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// PostgreSQL stopped for 6 s under load (its own throwaway cluster) and
// started again; Gantry keeps running and recovers by itself.
func TestDatabaseStoppedUnderLoad(t *testing.T) {
	pg := startCluster(t)
	box, smtpAddr := smtptest.Start(t)
	s := newServer(t, pg.url, smtpAddr)
	s.start()
	reqs := applications(commandsSent)
	start := time.Now()
	acked := load(s.url, reqs, clients, []int{commandsSent / 3}, func() {
		pg.ctl("stop", "-m", "fast")
		time.Sleep(6 * time.Second)
		pg.ctl("start", "-w", "-l", filepath.Join(pg.dir, "server.log"))
	})
	s2 := 0
	for _, r := range reqs {
		if r.status != 201 {
			s2++
		}
	}
	if s2 == 0 {
		t.Fatal("the outage came too late: every request was answered")
	}
	retried, stuck := retry(t, s.url(), reqs)
	f := check(t, s, pg.url, reqs, acked, retried, stuck, box)
	t.Logf("database stopped for 6 s under load: %s", f)
	viewsEqualRebuild(t, s, pg.url)
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// A transaction held open in psql style (BEGIN; SELECT txid_current();
// sleep) shows on /metrics within 5 s, and commands keep their latency: they
// no longer wait for the views.
func TestHeldTransactionShowsAndDoesNotStallCommands(t *testing.T) {
	_, smtpAddr := smtptest.Start(t)
	dbURL := pgtest.URL(t)
	s := newServer(t, dbURL, smtpAddr)
	s.start()
	ctx := context.Background()
	hold, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close(ctx)
	tx, err := hold.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT txid_current()`); err != nil {
		t.Fatal(err)
	}
	held := time.Now()
	reqs := applications(200)
	load(s.url, reqs, clients, nil)
	var lat []time.Duration
	for _, r := range reqs[:100] {
		r.key = r.key[:len(r.key)-4] + "beef" // still a v4 UUID: a new command
		a := send(s.url(), r)
		if a.status != 201 {
			t.Fatalf("command during the hold: %d %s", a.status, a.problem)
		}
		lat = append(lat, a.latency)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100-1]
	if p99 > 2*time.Second {
		t.Errorf("commands stall behind the held transaction: p99 %s", p99)
	}
	var age, waiting float64
	loaded := time.Now()
	for {
		age, waiting = metric(t, s.opsURL(), "gantry_xmin_horizon_age_seconds"), metric(t, s.opsURL(), "gantry_xmin_horizon_waiting_events")
		if age >= 1 && waiting >= 300 {
			break
		}
		if time.Since(loaded) > 5*time.Second {
			t.Fatalf("5 s after the commands, /metrics says horizon age %.1f s, %v events waiting", age, waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
	lag := metric(t, s.opsURL(), `gantry_projection_lag_events{projector="setup_applications"}`)
	if lag < 300 {
		t.Errorf("projector lag during the hold: %v events, want the 300 waiting", lag)
	}
	status := s.cli("projections", "status")
	if !regexp.MustCompile(`oldest open transaction pid \d+ .* open for \d+\.\ds; \d+ committed events wait`).MatchString(status) {
		t.Errorf("projections status does not show the hold:\n%s", status)
	}
	t.Logf("hold: commands p99 %s, metrics after %s: age %.1f s, %v events waiting; status:\n%s", p99, time.Since(held).Round(time.Millisecond), age, waiting, status)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); metric(t, s.opsURL(), "gantry_xmin_horizon_waiting_events") != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("events still waiting 10 s after the hold ended")
		}
	}
}

func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(l[len(name):]), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s not on /metrics", name)
	return 0
}

// cluster is a throwaway PostgreSQL cluster (initdb into a temp dir on a
// free port, Debian's binaries; as the postgres user when root).
type cluster struct {
	t   *testing.T
	bin string
	dir string
	url string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("no PostgreSQL binaries in /usr/lib/postgresql/*/bin (scripts/deps.sh installs them)")
	}
	sort.Strings(bins)
	dir, err := os.MkdirTemp("", "gantry-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = c.run("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop")
		_ = os.RemoveAll(dir)
	})
	port := freePort(t)
	_, p, _ := strings.Cut(port, ":")
	if err := c.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 200\nfsync = off\nlog_min_messages = warning\n", p, dir)
	f, err := os.OpenFile(filepath.Join(dir, "data", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(conf)
	f.Close()
	c.ctl("start", "-w", "-l", filepath.Join(dir, "server.log"))
	c.url = "postgres://postgres@127.0.0.1:" + p + "/postgres?sslmode=disable"
	return c
}

func (c *cluster) run(name string, args ...string) error {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, name)}, args...)...)
	} else {
		cmd = exec.Command(filepath.Join(c.bin, name), args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *cluster) ctl(args ...string) {
	if err := c.run("pg_ctl", append([]string{"-D", filepath.Join(c.dir, "data")}, args...)...); err != nil {
		c.t.Error(err)
	}
}

// On the real apply route over HTTP: a weak key is refused, a second client
// with the same key and another body learns nothing, bodies over the limit
// are 413 with or without a key, invalid UTF-8 is 400 naming the field, and
// nothing of it is written.
func TestKeysLimitsAndUTF8OverHTTP(t *testing.T) {
	_, smtpAddr := smtptest.Start(t)
	dbURL := pgtest.URL(t)
	s := newServer(t, dbURL, smtpAddr)
	s.start()
	post := func(key string, body []byte) (int, string, http.Header) {
		req, _ := http.NewRequest("POST", s.url()+"/v1/applications", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	r := applications(2)
	first := send(s.url(), r[0])
	if first.status != 201 || first.etag == "" {
		t.Fatalf("apply: %d %s", first.status, first.problem)
	}
	again := send(s.url(), r[0])
	if again.etag != first.etag || again.replayed != "true" || again.passcode != first.passcode {
		t.Fatalf("replay: ETag %q (first %q), replayed %q", again.etag, first.etag, again.replayed)
	}
	// Another client with the same key and another body: 422, nothing of the first.
	if code, body, _ := post(r[0].key, r[1].body); code != 422 || !strings.Contains(body, "idempotency_key_reused") || strings.Contains(body, first.passcode) || strings.Contains(body, first.appID) {
		t.Fatalf("same key, other body: %d %s", code, body)
	}
	for _, weak := range []string{"1", "retry-1", "00000000-0000-0000-0000-000000000001"} {
		if code, body, _ := post(weak, r[1].body); code != 400 || !strings.Contains(body, "weak_idempotency_key") {
			t.Fatalf("weak key %q: %d %s", weak, code, body)
		}
	}
	big := []byte(`{"details":{"vehicle_user":"` + strings.Repeat("x", 9<<20) + `"}}`)
	for _, key := range []string{"", uuid.NewString()} {
		if code, body, _ := post(key, big); code != 413 || !strings.Contains(body, "8388608") {
			t.Fatalf("9 MiB body (key %q): %d %.300s", key, code, body)
		}
	}
	bad := []byte(strings.Replace(string(r[1].body), "山田太郎", string([]byte{0xff, 0xfe}), 1))
	if code, body, _ := post(uuid.NewString(), bad); code != 400 || !strings.Contains(body, "invalid_utf8") || !strings.Contains(body, "details.applicant.name") {
		t.Fatalf("invalid UTF-8: %d %s", code, body)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var streams int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'application-%'`).Scan(&streams); err != nil {
		t.Fatal(err)
	}
	if streams != 1 {
		t.Fatalf("%d applications written, want the 1 accepted", streams)
	}
	var table *string
	if err := conn.QueryRow(ctx, `SELECT to_regclass('idempotency_keys')::text`).Scan(&table); err != nil || table != nil {
		t.Fatalf("the idempotency_keys side table must be gone: %v %v", table, err)
	}
}
