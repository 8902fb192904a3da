package api_test

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type thingMade struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	Plate  string `json:"plate"`
}

func (thingMade) EventType() string { return "test.thing_made" }

type thingTouched struct{}

func (thingTouched) EventType() string { return "test.thing_touched" }

var errTouched = domain.Conflict("already_touched", "The thing was touched already.")

// commandServer serves two commands on a real event store: an anonymous one
// that makes a thing with a generated ID and secret, and a staff one whose
// decision depends on the stream's state (a second touch is refused).
type commandServer struct {
	s       *api.Server
	pool    *pgxpool.Pool
	release chan struct{} // /v1/slow waits for it
	entered chan struct{}
	reached es.Position // what WaitFor treats as applied
	mu      sync.Mutex
}

func newCommandServer(t testing.TB) *commandServer {
	pool := pgtest.Pool(t)
	reg := es.NewRegistry()
	es.Register[thingMade](reg, 1)
	es.Register[thingTouched](reg, 1)
	sealer, err := es.NewSealer([]byte("0123456789abcdef0123456789abcdef"), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	streams := commands.Streams{Store: postgres.NewStore(pool, commands.SystemClock{}), Codec: es.NewCodec(reg, sealer)}
	cs := &commandServer{pool: pool, release: make(chan struct{}), entered: make(chan struct{}, 1)}
	cs.s = api.New(api.Config{
		Tokens: api.NewTokens([]byte("k"), time.Hour, time.Now), Pool: func() *pgxpool.Pool { return pool },
		Health: okHealth{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: prometheus.NewRegistry(),
		CommandKey: []byte("command key of this test, 32 byt"), MaxWait: 300 * time.Millisecond,
		WaitFor: func(ctx context.Context, pos es.Position) error {
			for {
				cs.mu.Lock()
				ok := !cs.reached.Less(pos)
				cs.mu.Unlock()
				if ok {
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
			}
		},
	})
	type body struct {
		Plate string `json:"plate"`
	}
	makeThing := func(c echo.Context) error {
		var b body
		if err := api.Bind(c, &b); err != nil {
			return err
		}
		ctx := api.Actor(c)
		id, secret := make([]byte, 8), make([]byte, 8)
		commands.Random(ctx, "thing_id", id)
		commands.Random(ctx, "secret", secret)
		ev := thingMade{ID: hex.EncodeToString(id), Secret: hex.EncodeToString(secret), Plate: b.Plate}
		res, err := streams.Append(ctx, "thing-"+ev.ID, 0, ev)
		if err != nil {
			return err
		}
		api.SetVersion(c, res.LastVersion)
		return c.JSON(http.StatusCreated, ev)
	}
	cs.s.Handle(api.Op{Method: http.MethodPost, Path: "/v1/things", ID: "makeThing", Tag: "test", Summary: "Make a thing.", Command: true, MaxBody: 1024, Handler: makeThing})
	cs.s.Handle(api.Op{Method: http.MethodPost, Path: "/v1/things/:id/touch", ID: "touchThing", Tag: "test", Summary: "Touch a thing once.",
		Roles: []api.Role{api.RoleStaff}, Command: true, Handler: func(c echo.Context) error {
			ctx := api.Actor(c)
			stream := "thing-" + c.Param("id")
			touched := false
			v, err := streams.Load(ctx, stream, func(e domain.Event) { _, t := e.(thingTouched); touched = touched || t })
			if err != nil {
				return err
			}
			if v == 0 {
				return domain.NotFound("no_thing", "No such thing.")
			}
			if touched {
				return errTouched
			}
			res, err := streams.Append(ctx, stream, v, thingTouched{})
			if err != nil {
				return err
			}
			api.SetVersion(c, res.LastVersion)
			return c.JSON(http.StatusOK, map[string]any{"version": res.LastVersion})
		}})
	cs.s.Handle(api.Op{Method: http.MethodPost, Path: "/v1/slow", ID: "slow", Tag: "test", Summary: "Waits.", Command: true, Handler: func(c echo.Context) error {
		cs.entered <- struct{}{}
		<-cs.release
		return c.NoContent(http.StatusNoContent)
	}})
	cs.s.Handle(api.Op{Method: http.MethodGet, Path: "/v1/things/view", ID: "viewThings", Tag: "test", Summary: "A view.", Handler: func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"ok": true})
	}})
	return cs
}

func (cs *commandServer) events(t *testing.T) int {
	var n int
	if err := cs.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeyedCommandReplaysTheFirstOutcome(t *testing.T) {
	cs := newCommandServer(t)
	h := cs.s.Echo()
	key := uuid.NewString()
	w1, m1 := do(t, h, "POST", "/v1/things", "", `{"plate":"品川 300 あ 12-34"}`, map[string]string{"Idempotency-Key": key})
	w2, m2 := do(t, h, "POST", "/v1/things", "", `{"plate":"品川 300 あ 12-34"}`, map[string]string{"Idempotency-Key": key})
	if w1.Code != 201 || w2.Code != 201 {
		t.Fatalf("status %d / %d: %s %s", w1.Code, w2.Code, w1.Body, w2.Body)
	}
	if m1["id"] != m2["id"] || m1["secret"] != m2["secret"] {
		t.Fatalf("a retry must answer the first outcome: %v / %v", m1, m2)
	}
	if w1.Header().Get("ETag") != `"1"` || w2.Header().Get("ETag") != w1.Header().Get("ETag") {
		t.Fatalf("replay ETag %q, first %q", w2.Header().Get("ETag"), w1.Header().Get("ETag"))
	}
	if w1.Header().Get("Idempotent-Replayed") != "" || w2.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("Idempotent-Replayed: first %q, retry %q", w1.Header().Get("Idempotent-Replayed"), w2.Header().Get("Idempotent-Replayed"))
	}
	if p1, p2 := w1.Header().Get(api.HeaderPosition), w2.Header().Get(api.HeaderPosition); p1 == "" || p1 != p2 {
		t.Fatalf("Gantry-Position %q / %q", p1, p2)
	}
	if n := cs.events(t); n != 1 {
		t.Fatalf("%d events after a command and its retry, want 1", n)
	}
	var cmdID string
	if err := cs.pool.QueryRow(context.Background(), `SELECT command_id FROM appended_commands`).Scan(&cmdID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cmdID, key) || !strings.HasPrefix(cmdID, "k:") {
		t.Fatalf("the command ID must be the scoped hash, not the key: %q", cmdID)
	}

	// The same key with another body is refused and reveals nothing.
	w3, m3 := do(t, h, "POST", "/v1/things", "", `{"plate":"other"}`, map[string]string{"Idempotency-Key": key})
	if w3.Code != 422 || m3["code"] != "idempotency_key_reused" || strings.Contains(w3.Body.String(), m1["secret"].(string)) {
		t.Fatalf("other body, same key: %d %s", w3.Code, w3.Body)
	}
	// A second anonymous client with its own key gets its own outcome.
	w4, m4 := do(t, h, "POST", "/v1/things", "", `{"plate":"品川 300 あ 12-34"}`, map[string]string{"Idempotency-Key": uuid.NewString()})
	if w4.Code != 201 || m4["id"] == m1["id"] || m4["secret"] == m1["secret"] {
		t.Fatalf("second client: %d %v", w4.Code, m4)
	}
	if n := cs.events(t); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestAnonymousKeysMustBeUnguessable(t *testing.T) {
	cs := newCommandServer(t)
	for _, key := range []string{"1", "outage-retry-1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "01234567-0123-0123-0123-0123456789ab" /* not v4 */, "0123456789abcdef0123456789abcdef", "018f3c1e-7b2a-7c3d-8e4f-123456789abc" /* v7 */} {
		w, m := do(t, cs.s.Echo(), "POST", "/v1/things", "", `{"plate":"x"}`, map[string]string{"Idempotency-Key": key})
		if w.Code != 400 || m["code"] != "weak_idempotency_key" || !strings.Contains(m["detail"].(string), "122 random bits") {
			t.Fatalf("key %q: %d %s", key, w.Code, w.Body)
		}
	}
	for _, key := range []string{uuid.NewString(), "Zt3q8Hk2pW9xLm4vN7bR1cY6dF0gJ5sAeQ"} {
		if w, _ := do(t, cs.s.Echo(), "POST", "/v1/things", "", `{"plate":"x"}`, map[string]string{"Idempotency-Key": key}); w.Code != 201 {
			t.Fatalf("key %q: %d %s", key, w.Code, w.Body)
		}
	}
	if n := cs.events(t); n != 2 {
		t.Fatalf("%d events, want 2 (weak keys write nothing)", n)
	}
}

// A retry of a command whose decision depends on the stream decides again
// on the state the first run saw: it answers the first outcome, not 409.
func TestKeyedRetryDecidesOnTheFirstState(t *testing.T) {
	cs := newCommandServer(t)
	h := cs.s.Echo()
	staff := cs.s.Tokens().Issue(api.Principal{Role: api.RoleStaff, Subject: "st-1", Store: "S1"})
	other := cs.s.Tokens().Issue(api.Principal{Role: api.RoleStaff, Subject: "st-2", Store: "S1"})
	_, m := do(t, h, "POST", "/v1/things", "", `{"plate":"x"}`, nil)
	path := "/v1/things/" + m["id"].(string) + "/touch"
	key := map[string]string{"Idempotency-Key": "touch-1"}
	w1, _ := do(t, h, "POST", path, staff, ``, key)
	w2, _ := do(t, h, "POST", path, staff, ``, key)
	if w1.Code != 200 || w2.Code != 200 || w2.Header().Get("ETag") != w1.Header().Get("ETag") || w2.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("touch and retry: %d %s / %d %s (ETag %q %q)", w1.Code, w1.Body, w2.Code, w2.Body, w1.Header().Get("ETag"), w2.Header().Get("ETag"))
	}
	// Without the key the state decides: touched already.
	if w, m := do(t, h, "POST", path, staff, ``, nil); w.Code != 409 || m["code"] != "already_touched" {
		t.Fatalf("second touch: %d %s", w.Code, w.Body)
	}
	// Keys are scoped to the caller: another staff's same key is its own command.
	if w, m := do(t, h, "POST", path, other, ``, key); w.Code != 409 || m["code"] != "already_touched" {
		t.Fatalf("other caller, same key: %d %s", w.Code, w.Body)
	}
	if n := cs.events(t); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestConcurrentDuplicateGets409WithRetryAfter(t *testing.T) {
	cs := newCommandServer(t)
	key := map[string]string{"Idempotency-Key": uuid.NewString()}
	done := make(chan int)
	go func() {
		w, _ := do(t, cs.s.Echo(), "POST", "/v1/slow", "", ``, key)
		done <- w.Code
	}()
	<-cs.entered
	w, m := do(t, cs.s.Echo(), "POST", "/v1/slow", "", ``, key)
	if w.Code != 409 || m["code"] != "idempotency_key_in_use" || w.Header().Get("Retry-After") == "" {
		t.Fatalf("concurrent duplicate: %d %s", w.Code, w.Body)
	}
	// Another process holds it too: the advisory lock is on the database.
	var held int
	if err := cs.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held); err != nil || held != 1 {
		t.Fatalf("advisory locks held: %d %v", held, err)
	}
	close(cs.release)
	if code := <-done; code != 204 {
		t.Fatalf("first: %d", code)
	}
	if err := cs.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held); err != nil || held != 0 {
		t.Fatalf("advisory locks after the request: %d %v", held, err)
	}
	go func() { <-cs.entered }()
	if w, _ := do(t, cs.s.Echo(), "POST", "/v1/slow", "", ``, key); w.Code != 204 {
		t.Fatalf("after the first ended: %d %s", w.Code, w.Body)
	}
}

func TestOversizeBodyIs413WithOrWithoutKey(t *testing.T) {
	cs := newCommandServer(t)
	big := `{"plate":"` + strings.Repeat("x", 2000) + `"}`
	for _, hdr := range []map[string]string{nil, {"Idempotency-Key": uuid.NewString()}} {
		w, m := do(t, cs.s.Echo(), "POST", "/v1/things", "", big, hdr)
		if w.Code != 413 || m["code"] != "body_too_large" || !strings.Contains(m["detail"].(string), "1024") {
			t.Fatalf("oversize (headers %v): %d %s", hdr, w.Code, w.Body)
		}
	}
	// Without a Content-Length (chunked), the limit still holds.
	r, _ := http.NewRequest("POST", "/v1/things", io.MultiReader(strings.NewReader(big)))
	r.ContentLength = -1
	r.Header.Set("Idempotency-Key", uuid.NewString())
	rec := httptest.NewRecorder()
	cs.s.Echo().ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Fatalf("chunked oversize: %d %s", rec.Code, rec.Body)
	}
	if n := cs.events(t); n != 0 {
		t.Fatalf("%d events written from oversize bodies", n)
	}
}

func TestInvalidUTF8Is400NamingTheField(t *testing.T) {
	cs := newCommandServer(t)
	body := "{\"plate\":\"\xff\xfe\"}"
	w, m := do(t, cs.s.Echo(), "POST", "/v1/things", "", body, map[string]string{"Idempotency-Key": uuid.NewString()})
	if w.Code != 400 || m["code"] != "invalid_utf8" || m["field"] != "plate" {
		t.Fatalf("invalid UTF-8: %d %s", w.Code, w.Body)
	}
	w, m = do(t, cs.s.Echo(), "POST", "/v1/things", "", "{\"a\":{\"b\":[\"ok\",\"x\xc3\"]}}", nil)
	if w.Code != 400 || m["field"] != "a.b[1]" {
		t.Fatalf("nested invalid UTF-8: %d %s", w.Code, w.Body)
	}
	if n := cs.events(t); n != 0 {
		t.Fatalf("%d events written", n)
	}
}

func TestQueriesWaitForTheGivenPosition(t *testing.T) {
	cs := newCommandServer(t)
	w, _ := do(t, cs.s.Echo(), "POST", "/v1/things", "", `{"plate":"x"}`, nil)
	pos := w.Header().Get(api.HeaderPosition)
	p, err := es.ParsePosition(pos)
	if err != nil || p == (es.Position{}) {
		t.Fatalf("command answered Gantry-Position %q: %v", pos, err)
	}
	// Views behind: bounded wait, then 503 with Retry-After.
	start := time.Now()
	w, m := do(t, cs.s.Echo(), "GET", "/v1/things/view?after="+pos, "", "", nil)
	if w.Code != 503 || m["code"] != "views_behind" || w.Header().Get("Retry-After") == "" || time.Since(start) > 5*time.Second {
		t.Fatalf("views behind: %d %s after %s", w.Code, w.Body, time.Since(start))
	}
	// Without a token, no wait.
	if w, _ := do(t, cs.s.Echo(), "GET", "/v1/things/view", "", "", nil); w.Code != 200 {
		t.Fatalf("plain read: %d", w.Code)
	}
	cs.mu.Lock()
	cs.reached = p
	cs.mu.Unlock()
	if w, _ := do(t, cs.s.Echo(), "GET", "/v1/things/view", "", "", map[string]string{api.HeaderAfter: pos}); w.Code != 200 {
		t.Fatalf("views caught up: %d %s", w.Code, w.Body)
	}
	if w, m := do(t, cs.s.Echo(), "GET", "/v1/things/view?after=yesterday", "", "", nil); w.Code != 400 || m["code"] != "bad_position" {
		t.Fatalf("bad token: %d %s", w.Code, w.Body)
	}
}

// BenchmarkCommand: the same command with and without an Idempotency-Key
// (the key adds the advisory lock round trips and the command record).
func BenchmarkCommand(b *testing.B) {
	cs := newCommandServer(b)
	h := cs.s.Echo()
	for _, keyed := range []bool{false, true} {
		name := "without key"
		if keyed {
			name = "with key"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest("POST", "/v1/things", strings.NewReader(`{"plate":"x"}`))
				r.Header.Set("Content-Type", "application/json")
				if keyed {
					r.Header.Set("Idempotency-Key", uuid.NewString())
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 201 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
