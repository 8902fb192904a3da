package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

type env struct {
	t     *testing.T
	a     *app.App
	srv   *httptest.Server
	clock *commands.ManualClock
	inbox *smtptest.Inbox

	// after is the consistency token: the last Gantry-Position a command
	// answered, sent back with every query (Gantry-After) so that a read
	// sees this test's own writes.
	mu    sync.Mutex
	after es.Position
}

func start(t *testing.T) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &smtptest.Inbox{}
	box.Serve(t, ln)
	return startWith(t, box, func(cfg *app.Config) { cfg.SMTPAddr = ln.Addr().String() })
}

// startWith builds and starts the app; edit adjusts the configuration
// (SMTPAddr at least).
func startWith(t *testing.T, box *smtptest.Inbox, edit func(*app.Config)) *env {
	t.Helper()
	cfg := app.Config{DatabaseURL: pgtest.URL(t), HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: 5 * time.Millisecond,
		MailFrom: "noreply@gantry.test", EDIDir: t.TempDir(), PublicURL: "http://gantry.test",
		Extra: map[string]string{"GANTRY_BOOTSTRAP_ADMIN": "root:bootstrap-password", "GANTRY_BCRYPT_COST": "4"}}
	cfg.TestKeys()
	cfg.TokenTTL = 12 * time.Hour
	cfg.Security.Limits = roomyLimits() // abuse_test.go sets tight ones
	edit(&cfg)
	clock := commands.NewManualClock(time.Date(2026, 4, 1, 10, 0, 0, 0, domain.Tokyo))
	a, err := app.Build(cfg, clock, slog.New(slog.NewTextHandler(logOut(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	srv := httptest.NewServer(a.API.Echo())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; a.Close() })
	e := &env{t: t, a: a, srv: srv, clock: clock, inbox: box}
	for i := 0; i < 200; i++ { // wait for migrations
		if r := e.do("GET", "/readyz", "", "", nil); r.code == 200 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

type resp struct {
	code   int
	body   []byte
	etag   string
	ctype  string
	link   string // the Link header (next page of a list)
	header http.Header
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.code, r.body)
	}
	return m
}

func (e *env) do(method, path, token, ifMatch string, body any) resp {
	return e.request(method, path, token, map[string]string{"If-Match": ifMatch}, body)
}

// doKey is do with an Idempotency-Key.
func (e *env) doKey(method, path, token, key string, body any) resp {
	return e.request(method, path, token, map[string]string{"Idempotency-Key": key}, body)
}

// request sends body as JSON ([]byte as it is) with the non-empty headers.
func (e *env) request(method, path, token string, headers map[string]string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	e.mu.Lock()
	if method == http.MethodGet && e.after != (es.Position{}) {
		req.Header.Set("Gantry-After", e.after.String())
	}
	e.mu.Unlock()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if p, err := es.ParsePosition(res.Header.Get("Gantry-Position")); err == nil {
		e.mu.Lock()
		if e.after.Less(p) {
			e.after = p
		}
		e.mu.Unlock()
	}
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b, res.Header.Get("ETag"), res.Header.Get("Content-Type"), res.Header.Get("Link"), res.Header}
}

func (e *env) must(want int, r resp) resp {
	e.t.Helper()
	if r.code != want {
		e.t.Fatalf("status %d, want %d: %s", r.code, want, r.body)
	}
	return r
}

// staff creates a staff account through the admin endpoint and logs it in.
func (e *env) staff(id, store, role string) string {
	admin := e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "root", "password": "bootstrap-password"})).json(e.t)["token"].(string)
	e.must(201, e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": id, "store_id": store, "role": role, "password": "pass-" + id + "-long"}))
	return e.login(id)
}

// login logs a staff account made by staff in again (tokens last 12 hours
// of the test clock).
func (e *env) login(id string) string {
	e.t.Helper()
	return e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": id, "password": "pass-" + id + "-long"})).json(e.t)["token"].(string)
}

func (e *env) eventCount() int {
	var n int
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func q(v int64) string { return strconv.Quote(strconv.FormatInt(v, 10)) }

var applicant = map[string]any{
	"details": map[string]any{
		"applicant":    map[string]any{"name": "山田太郎", "address": "東京都品川区1-2-3", "phone": "03-1234-5678", "email": "taro.yamada@example.jp"},
		"vehicle_user": "山田太郎",
	},
	"acceptances": map[string]bool{"personal_data_policy": true, "etc_system_terms": true, "dsrc_terms": true, "probe_data_policy": true},
	"units":       1,
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func logOut() io.Writer {
	if os.Getenv("E2E_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
