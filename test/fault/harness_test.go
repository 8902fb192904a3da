// Package fault runs the built `gantry` binary as a child process under HTTP
// load and breaks things: kill -9 of the server, the database stopped and
// started again, a transaction held open in another session. Every request
// carries an Idempotency-Key and is retried until it is answered; the tests
// then count what the database holds.
package fault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/test/smtptest"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// gantryBin builds cmd/gantry once per test binary into a temp dir.
func gantryBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gantry-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gantry")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/gantry")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gantry: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is one `gantry serve` child process.
type server struct {
	t    *testing.T
	bin  string
	env  []string
	addr string
	ops  string // GANTRY_OPS_ADDR: /metrics and the detailed health
	cmd  *exec.Cmd
	log  *lockedBuffer
}

type lockedBuffer struct {
	mu       sync.Mutex
	b        bytes.Buffer
	problems []string // the last WARN and ERROR lines
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(string(p), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
			l.problems = append(l.problems, line)
			if len(l.problems) > 40 {
				l.problems = l.problems[1:]
			}
		}
	}
	if l.b.Len() > 4<<20 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newServer(t *testing.T, databaseURL, smtpAddr string) *server {
	addr, ops := freePort(t), freePort(t)
	s := &server{t: t, bin: gantryBin(t), addr: addr, ops: ops, log: &lockedBuffer{}, env: append(os.Environ(),
		"DATABASE_URL="+databaseURL,
		"GANTRY_HTTP_ADDR="+addr,
		"GANTRY_OPS_ADDR="+ops,
		// The load comes from one address, like a trusted load balancer's.
		"GANTRY_RATE_LIMITS=apply.addr=1000000/1s,login.addr=1000000/1s,login.target=1000000/1s,verify.addr=1000000/1s,download.addr=1000000/1s,download.target=1000000/1s",
		"GANTRY_KEK="+base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"GANTRY_TOKEN_KEY="+base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210")),
		"GANTRY_SMTP_ADDR="+smtpAddr,
		"GANTRY_LOG_KEY="+app.TestLogKey,
		"GANTRY_CHECKPOINT_DIR="+t.TempDir(),
		"GANTRY_BCRYPT_COST=4",
		"GANTRY_POLL=20ms",
		"GANTRY_BUS_RETRY=200ms",
		"GANTRY_BUS_RETRY_MAX=1s",
		"GANTRY_EDI_DIR="+t.TempDir(),
	)}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server log (tail):\n%s\nlast warnings and errors:\n%s", tail(s.log.String(), 2000), strings.Join(s.log.problems, "\n"))
		}
	})
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (s *server) url() string { return "http://" + s.addr }

// opsURL is where the operators' endpoints (/metrics) answer.
func (s *server) opsURL() string { return "http://" + s.ops }

// start runs `gantry serve` and waits until /readyz answers 200.
func (s *server) start() {
	s.t.Helper()
	begin := time.Now()
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r, err := http.Get(s.url() + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				s.t.Logf("gantry serve ready after %s", time.Since(begin).Round(time.Millisecond))
				return
			}
		}
	}
	s.t.Fatalf("gantry serve not ready within 60 s:\n%s", tail(s.log.String(), 3000))
}

// kill sends SIGKILL to the child (by its PID) and reaps it.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// stop ends the child gracefully (SIGTERM).
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
	s.cmd = nil
}

// cliErr runs a one-shot gantry command against the same database (from
// any goroutine).
func (s *server) cliErr(args ...string) (string, error) {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cli runs a one-shot gantry command against the same database.
func (s *server) cli(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("gantry %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// request is one application with its key, and what it was answered.
type request struct {
	key   string
	body  []byte
	email string

	status   int
	appID    string
	passcode string
	qr       string
	etag     string
	position string
	attempts int
	retried  bool
	// applied: the first answer the client got was a replay (the command
	// had committed, but its answer was lost to the fault).
	applied bool
}

func applications(n int) []*request {
	out := make([]*request, n)
	for i := range out {
		email := fmt.Sprintf("applicant-%04d@example.jp", i)
		b, _ := json.Marshal(map[string]any{
			"details": map[string]any{
				"applicant":    map[string]any{"name": "山田太郎", "address": "東京都品川区1-2-3", "phone": "03-1234-5678", "email": email},
				"vehicle_user": "山田太郎",
			},
			"acceptances": map[string]bool{"personal_data_policy": true, "etc_system_terms": true, "dsrc_terms": true, "probe_data_policy": true},
			"units":       1,
		})
		out[i] = &request{key: uuid.NewString(), body: b, email: email}
	}
	return out
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

type answer struct {
	status                      int
	appID, passcode, qr, etag   string
	position, replayed, problem string
	latency                     time.Duration
}

// send posts one application; a transport error is status 0.
func send(base string, r *request) answer {
	req, _ := http.NewRequest("POST", base+"/v1/applications", bytes.NewReader(r.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.key)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return answer{latency: time.Since(start)}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, etag: res.Header.Get("ETag"), position: res.Header.Get("Gantry-Position"),
		replayed: res.Header.Get("Idempotent-Replayed"), latency: time.Since(start)}
	if res.StatusCode == 201 {
		var m struct {
			ApplicationID string `json:"application_id"`
			Passcode      string `json:"passcode"`
			QR            string `json:"qr"`
		}
		_ = json.Unmarshal(body, &m)
		a.appID, a.passcode, a.qr = m.ApplicationID, m.Passcode, m.QR
	} else {
		a.problem = string(body)
	}
	return a
}

func (r *request) record(a answer) {
	r.status, r.appID, r.passcode, r.qr, r.etag, r.position = a.status, a.appID, a.passcode, a.qr, a.etag, a.position
}

// load sends every request once with `clients` workers; when the number of
// requests answered 201 reaches at[i], it calls faults[i] from its own
// goroutine (one at a time, in order). Requests that got no 201 (connection
// refused or reset, 503) stay unanswered for the retry phase.
func load(base func() string, reqs []*request, clients int, at []int, faults ...func()) (acked int64) {
	var (
		next int64 = -1
		ok   int64
		wg   sync.WaitGroup
		fwg  sync.WaitGroup
		mu   sync.Mutex
	)
	done := make(chan struct{})
	trigger := make([]chan struct{}, len(at))
	for i := range trigger {
		trigger[i] = make(chan struct{})
	}
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		for i, f := range faults {
			select {
			case <-trigger[i]:
				f()
			case <-done:
				return
			}
		}
	}()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(reqs)) {
					return
				}
				r := reqs[i]
				r.attempts++
				mu.Lock()
				url := base()
				mu.Unlock()
				a := send(url, r)
				if a.status == 201 {
					r.record(a)
					n := int(atomic.AddInt64(&ok, 1))
					for k, v := range at {
						if n == v {
							close(trigger[k])
						}
					}
				} else {
					r.status = a.status
					time.Sleep(50 * time.Millisecond) // a client backs off a little
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	fwg.Wait()
	return ok
}

// retry sends every unanswered request again with its key until it is
// answered 201, honouring 409 + Retry-After; it returns how many were
// retried and how many are stuck (no 201 within the time allowed).
func retry(t *testing.T, base string, reqs []*request) (retried, stuck int) {
	deadline := time.Now().Add(90 * time.Second)
	began := time.Now()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		todo = make(chan *request)
	)
	defer func() {
		t.Logf("retry phase: %d retried in %s", retried, time.Since(began).Round(time.Millisecond))
	}()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range todo {
				for {
					r.attempts++
					a := send(base, r)
					if a.status == 201 {
						r.record(a)
						r.applied = a.replayed == "true"
						break
					}
					refused := a.status == 400 || a.status == 422
					if refused || time.Now().After(deadline) {
						t.Errorf("key %s stuck: last answer %d %s", r.key, a.status, a.problem)
						mu.Lock()
						stuck++
						mu.Unlock()
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	for _, r := range reqs {
		if r.status == 201 {
			continue
		}
		retried++
		r.retried = true
		todo <- r
	}
	close(todo)
	wg.Wait()
	return retried, stuck
}

// figures is what a fault run reports.
type figures struct {
	sent, acked, retried, lostAnswers, lost, duplicated, stuck, mismatched, mailRepeats int
}

func (f figures) String() string {
	return fmt.Sprintf("sent %d, acknowledged %d, retried %d (of which %d had committed before the fault and were answered by replay), lost %d, applied twice %d, keys stuck %d, replayed answers differing from the first %d, repeated mails %d",
		f.sent, f.acked, f.retried, f.lostAnswers, f.lost, f.duplicated, f.stuck, f.mismatched, f.mailRepeats)
}

const clients = 8

// check asserts the outcome of a fault run on the database behind s.
func check(t *testing.T, s *server, dbURL string, reqs []*request, acked int64, retried, stuck int, box *smtptest.Inbox) figures {
	t.Helper()
	f := figures{sent: len(reqs), acked: int(acked), retried: retried, stuck: stuck}
	for _, r := range reqs {
		if r.applied {
			f.lostAnswers++
		}
	}
	// Every acknowledged answer is answered again, identically, on a retry.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next int64 = -1
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(reqs)) {
					return
				}
				r := reqs[i]
				before := *r
				a := send(s.url(), r)
				if a.status != 201 || a.appID != before.appID || a.passcode != before.passcode || a.qr != before.qr || a.etag != before.etag || a.replayed != "true" || a.position != before.position {
					mu.Lock()
					f.mismatched++
					if f.mismatched < 5 {
						t.Errorf("key %s: first %s %s %s %s, replay %d %s %s %s %s replayed=%q", r.key, before.appID, before.passcode, before.etag, before.position,
							a.status, a.appID, a.passcode, a.etag, a.position, a.replayed)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ids := map[string]bool{}
	for _, r := range reqs {
		if r.appID != "" {
			if ids[r.appID] {
				t.Errorf("two requests answered application %s", r.appID)
			}
			ids[r.appID] = true
		}
	}
	var streams, commands int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'application-%'`).Scan(&streams); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM appended_commands WHERE command_id LIKE 'k:%'`).Scan(&commands); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT stream_id, count(*) FROM events WHERE stream_id LIKE 'application-%' GROUP BY stream_id`)
	if err != nil {
		t.Fatal(err)
	}
	perStream := map[int]int{}
	inDB := map[string]bool{}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		perStream[n]++
		inDB[strings.TrimPrefix(id, "application-")] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for id := range ids {
		if !inDB[id] {
			f.lost++
		}
	}
	f.duplicated = streams - len(ids)
	if commands != len(reqs) {
		t.Errorf("%d command records for %d keyed commands", commands, len(reqs))
	}
	if len(perStream) != 1 {
		t.Errorf("application streams differ in length (events per stream: count): %v", perStream)
	}
	// The passcodes answered are the real ones.
	for i, r := range reqs {
		if i%25 != 0 && !r.retried {
			continue
		}
		b, _ := json.Marshal(map[string]string{"application_id": r.appID, "passcode": r.passcode})
		res, err := client.Post(s.url()+"/v1/auth/customer/login", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("customer login with the answered passcode of %s: %d", r.appID, res.StatusCode)
		}
	}
	// Mails: one per application; a repeat (crash between the SMTP server's
	// 250 and the delivery record) carries the same Message-ID.
	mailStart := time.Now()
	byTo := map[string][]string{}
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		byTo = map[string][]string{}
		for _, m := range box.Mails() {
			byTo[strings.Join(m.To, ",")] = append(byTo[strings.Join(m.To, ",")], messageID(m.Data))
		}
		if len(byTo) >= len(reqs) {
			break
		}
	}
	if len(byTo) != len(reqs) {
		t.Errorf("%d applicants got mail, want %d", len(byTo), len(reqs))
	}
	t.Logf("all mails after %s", time.Since(mailStart).Round(time.Millisecond))
	for to, idsSeen := range byTo {
		f.mailRepeats += len(idsSeen) - 1
		for _, id := range idsSeen[1:] {
			if id != idsSeen[0] || id == "" {
				t.Errorf("mails to %s carry different Message-IDs %v", to, idsSeen)
			}
		}
	}
	if f.lost != 0 || f.duplicated != 0 || f.stuck != 0 || f.mismatched != 0 {
		t.Errorf("figures: %s", f)
	}
	return f
}

func messageID(raw string) string {
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(strings.ToLower(l), "message-id:") {
			return strings.TrimSpace(l[len("message-id:"):])
		}
		if sc.Text() == "" {
			break
		}
	}
	return ""
}

// viewsEqualRebuild waits for the projectors to catch up, stops the server,
// dumps every projector's tables, rebuilds each one from the log with the
// CLI and compares; then `gantry verify` must say intact.
func viewsEqualRebuild(t *testing.T, s *server, dbURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out := s.cli("projections", "status")
		if caughtUp(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projectors did not catch up:\n%s", out)
		}
	}
	s.stop()
	var names []string
	rows, err := conn.Query(ctx, `SELECT name FROM projection_checkpoints WHERE name NOT IN ('outbox', 'tlog') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// The transparency log (tlog) is not rebuilt: gantry verify checks it.
	for _, name := range names {
		before := dump(t, conn, "proj_"+name)
		s.cli("projections", "rebuild", name)
		after := dump(t, conn, "proj_"+name)
		if before != after {
			t.Errorf("view %s differs from a full rebuild:\nlive:    %s\nrebuilt: %s", name, tail(before, 500), tail(after, 500))
		}
	}
	if out := s.cli("verify"); !strings.Contains(out, "intact") {
		t.Errorf("gantry verify: %s", out)
	}
}

func caughtUp(status string) bool {
	rows := 0
	for _, l := range strings.Split(strings.TrimSpace(status), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] == "PROJECTOR" || f[0] == "delivery" || strings.HasPrefix(l, "{") {
			continue // header, horizon line, log lines
		}
		rows++
		if f[1] != "running" || f[3] != "0" {
			return false
		}
	}
	return rows > 0
}

func dump(t *testing.T, conn *pgx.Conn, schema string) string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tb := range tables {
		var lines []string
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s.%s t`, pgx.Identifier{schema}.Sanitize(), pgx.Identifier{tb}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(lines)
		fmt.Fprintf(&b, "%s (%d rows)\n%s\n", tb, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}
