package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// roomyLimits keep the rate limits out of the way of the other tests (they
// log in far more often than a person would); TestAbuse sets tight ones.
func roomyLimits() map[string]api.Rates {
	l := api.DefaultLimits()
	for k := range l {
		l[k] = api.Rates{Addr: api.Rate{N: 100_000, Per: time.Minute}, Target: api.Rate{N: 100_000, Per: time.Minute}}
	}
	return l
}

// startHardened is start with the production http.Server (timeouts, header
// limit) instead of httptest's defaults.
func startHardened(t *testing.T, edit func(*app.Config)) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &smtptest.Inbox{}
	box.Serve(t, ln)
	e := startWith(t, box, func(cfg *app.Config) { cfg.SMTPAddr = ln.Addr().String(); edit(cfg) })
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.a.HTTPServer()
	srv.Start()
	t.Cleanup(srv.Close)
	e.srv = srv
	return e
}

func (e *env) staffCount() int {
	var n int
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM setup_staff_accounts`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func respCode(t *testing.T, r resp) string {
	t.Helper()
	if !strings.HasPrefix(r.ctype, "application/problem+json") {
		t.Fatalf("%d answered %q, want problem+json: %s", r.code, r.ctype, short(r.body))
	}
	c, _ := r.json(t)["code"].(string)
	return c
}

// TestAbuse is the table of abuse cases over HTTP (issue 10): each row is
// an attack, the status it gets, and how many events it may write (the
// passcode guesses are counted: that is the lock; everything else writes
// nothing).
func TestAbuse(t *testing.T) {
	e := startHardened(t, func(cfg *app.Config) {
		cfg.Security.Limits = roomyLimits()
		cfg.Security.Limits[api.LimitVerify] = api.Rates{Addr: api.Rate{N: 2, Per: time.Minute}}
		cfg.Security.Limits[api.LimitLogin] = api.Rates{Addr: api.Rate{N: 1000, Per: time.Minute}, Target: api.Rate{N: 8, Per: time.Hour}}
		cfg.Security.ReadTimeout = time.Second
		cfg.Security.ReadHeaderTimeout = time.Second
	})
	admin := e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "root", "password": "bootstrap-password"})).json(t)["token"].(string)
	create := func(id, store, role string) {
		e.must(201, e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": id, "store_id": store, "role": role, "password": "pass-" + id + "-long"}))
	}
	create("st-A", "store-A", "store_staff")
	create("st-B", "store-B", "store_staff")
	create("st-T", "store-A", "store_staff")
	create("st-R", "store-B", "store_staff")
	staffA, staffB := e.login("st-A"), e.login("st-B")
	login := func(id, pass string) resp {
		return e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"application_id": id, "passcode": pass})
	}

	tests := []struct {
		name   string
		attack func(t *testing.T) resp
		status int
		code   string
		events int // events the attack writes; -1: the row checks its own
	}{
		{name: "brute_force_customer_login_locks_then_refuses_the_right_passcode", status: 401, code: "bad_credentials", events: -1, attack: func(t *testing.T) resp {
			id, pass, _ := e.apply()
			before := e.eventCount()
			for i := 1; i <= 5; i++ {
				if r := login(id, fmt.Sprintf("WRONG%05d", i)); r.code != 401 || respCode(t, r) != "bad_credentials" {
					t.Fatalf("wrong passcode %d: %d %s", i, r.code, short(r.body))
				}
			}
			r := login(id, pass)
			if n := e.eventCount() - before; n != 6 {
				t.Fatalf("%d events for 5 wrong passcodes, want 5 rejections and the lock", n)
			}
			defer func() { // the operator unlocks: the right passcode works again
				e.must(204, e.do("POST", "/v1/admin/applications/"+id+"/unlock", admin, "", nil))
				e.must(200, login(id, pass))
			}()
			return r
		}},
		{name: "customer_login_lock_leaves_reception_open", status: 201, events: -1, attack: func(t *testing.T) resp {
			id, _, qr := e.apply()
			for i := 1; i <= 5; i++ {
				login(id, fmt.Sprintf("WRONG%05d", i))
			}
			return e.do("POST", "/v1/receptions", staffA, "", map[string]string{"qr": qr})
		}},
		{name: "unknown_application_looks_like_a_wrong_passcode", status: 401, code: "bad_credentials", attack: func(t *testing.T) resp {
			return login("AP-NOSUCHAPP000", "ABCDEFGHJK")
		}},
		{name: "cross_store_lockout_store_a_cannot_lock_b", status: 201, events: -1, attack: func(t *testing.T) resp {
			id, pass, qr := e.apply()
			for i := 1; i <= 5; i++ {
				r := e.do("POST", "/v1/receptions", staffA, "", map[string]string{"application_id": id, "passcode": fmt.Sprintf("WRONG%05d", i)})
				if want := map[bool]int{true: 423, false: 422}[i == 5]; r.code != want {
					t.Fatalf("store A wrong passcode %d: %d %s", i, r.code, short(r.body))
				}
			}
			if r := e.do("POST", "/v1/receptions", staffA, "", map[string]string{"application_id": id, "passcode": pass}); r.code != 423 {
				t.Fatalf("store A after its lock: %d %s, want 423", r.code, short(r.body))
			}
			return e.do("POST", "/v1/receptions", staffB, "", map[string]string{"qr": qr}) // 5 rejections, lock, B's reception + setup start
		}},
		{name: "oversized_field", status: 422, code: "too_long", attack: func(t *testing.T) resp {
			body := map[string]any{"details": map[string]any{
				"applicant":    map[string]any{"name": "山田太郎", "address": strings.Repeat("東", 201), "phone": "03-1234-5678", "email": "taro.yamada@example.jp"},
				"vehicle_user": "山田太郎"}, "acceptances": applicant["acceptances"], "units": 1}
			return e.do("POST", "/v1/applications", "", "", body)
		}},
		{name: "oversized_device_id", status: 400, code: "bad_device_id", attack: func(t *testing.T) resp {
			return e.request("POST", "/v1/applications", "", map[string]string{"X-Device-ID": strings.Repeat("d", 65)}, applicant)
		}},
		{name: "device_id_of_600_kb_is_refused_before_routing", status: 431, attack: func(t *testing.T) resp {
			return e.request("POST", "/v1/applications", "", map[string]string{"X-Device-ID": strings.Repeat("d", 600<<10)}, applicant)
		}},
		{name: "trailing_json_document", status: 400, code: "trailing_data", attack: func(t *testing.T) resp {
			return e.request("POST", "/v1/applications", "", nil, []byte(`{"units":1}{"units":2}`))
		}},
		{name: "trailing_garbage", status: 400, code: "trailing_data", attack: func(t *testing.T) resp {
			b := string(jsonBytes(applicant)) + " garbage"
			return e.request("POST", "/v1/applications", "", nil, []byte(b))
		}},
		{name: "verify_over_its_rate_is_429_with_retry_after", status: 429, code: "too_many_requests", attack: func(t *testing.T) resp {
			e.do("GET", "/v1/verify/AAAA-BBBB-CCCC-DDDD-EEEE", "", "", nil)
			e.do("GET", "/v1/verify/AAAA-BBBB-CCCC-DDDD-EEEE", "", "", nil)
			return e.do("GET", "/v1/verify/AAAA-BBBB-CCCC-DDDD-EEEE", "", "", nil)
		}},
		{name: "login_guesses_for_one_staff_id_are_limited_per_target", status: 429, code: "too_many_requests", attack: func(t *testing.T) resp {
			for i := 0; i < 8; i++ {
				if r := e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-T", "password": fmt.Sprintf("guess-%d", i)}); r.code != 401 {
					t.Fatalf("guess %d: %d %s", i, r.code, short(r.body))
				}
			}
			r := e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-T", "password": "pass-st-T-long"})
			e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-A", "password": "pass-st-A-long"})) // another target
			return r
		}},
		{name: "unknown_role", status: 422, code: "unknown_role", attack: func(t *testing.T) resp {
			return e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": "x-1", "role": "superuser", "password": "a-long-enough-passphrase"})
		}},
		{name: "short_password", status: 422, code: "weak_password", attack: func(t *testing.T) resp {
			return e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": "x-2", "role": "finance", "password": "Short-pw1!"})
		}},
		{name: "common_password", status: 422, code: "weak_password", attack: func(t *testing.T) resp {
			return e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": "x-3", "role": "finance", "password": "passwordpassword"})
		}},
		{name: "logged_out_token", status: 401, code: "unauthenticated", attack: func(t *testing.T) resp {
			tok := e.login("st-B")
			e.must(200, e.do("GET", "/v1/views/setups", tok, "", nil))
			e.must(204, e.do("POST", "/v1/auth/logout", tok, "", nil))
			return e.do("GET", "/v1/views/setups", tok, "", nil)
		}},
		{name: "tokens_revoked_by_the_operator", status: 401, code: "unauthenticated", attack: func(t *testing.T) resp {
			tok := e.login("st-R")
			e.must(204, e.do("POST", "/v1/admin/staff/st-R/revoke-tokens", admin, "", nil))
			r := e.do("GET", "/v1/views/setups", tok, "", nil)
			e.clock.Advance(time.Second) // a login after the revocation works
			e.must(200, e.do("GET", "/v1/views/setups", e.login("st-R"), "", nil))
			return r
		}},
		{name: "metrics_not_on_the_public_listener", status: 404, attack: func(t *testing.T) resp {
			return e.do("GET", "/metrics", "", "", nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, staff := e.eventCount(), e.staffCount()
			r := tt.attack(t)
			if r.code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.code, tt.status, short(r.body))
			}
			if tt.code != "" {
				if c := respCode(t, r); c != tt.code {
					t.Fatalf("code %q, want %q: %s", c, tt.code, short(r.body))
				}
			}
			if tt.status == 429 && r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			if n := e.eventCount() - before; tt.events >= 0 && n != tt.events {
				t.Fatalf("%d events written, want %d", n, tt.events)
			}
			if n := e.staffCount(); n != staff {
				t.Fatalf("%d staff accounts written", n-staff)
			}
		})
	}
}

func jsonBytes(v any) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// TestSlowBodyIsCut: a client that trickles its body is disconnected when
// the read timeout (1 s here) passes, and nothing is written.
func TestSlowBodyIsCut(t *testing.T) {
	e := startHardened(t, func(cfg *app.Config) {
		cfg.Security.ReadTimeout, cfg.Security.ReadHeaderTimeout = time.Second, time.Second
	})
	before := e.eventCount()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/applications HTTP/1.1\r\nHost: gantry\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(conn)) // returns when the server closes
		closed <- time.Since(start)
	}()
	sent := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-closed:
			if d > 3*time.Second {
				t.Fatalf("the connection was closed after %s, want about 1 s", d)
			}
			if n := e.eventCount(); n != before {
				t.Fatalf("%d events written", n-before)
			}
			t.Logf("trickled %d bytes; closed after %s", sent, d.Round(10*time.Millisecond))
			return
		case <-tick.C:
			if time.Since(start) > 5*time.Second {
				t.Fatalf("still open after %s of trickling (%d bytes)", time.Since(start), sent)
			}
			if _, err := conn.Write([]byte(" ")); err == nil {
				sent++
			}
		}
	}
}

// TestSecurityHeaders: every answer carries them; tokens and personal
// answers are never stored by caches; ops endpoints answer on their own
// handler only, and the public health answers name nothing.
func TestSecurityHeaders(t *testing.T) {
	e := start(t)
	get := func(method, path, token string, body any) http.Header {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(string(jsonBytes(body))))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.Header
	}
	staff := e.staff("st-1", "store-A", "store_staff")
	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"POST", "/v1/applications", "", applicant},
		{"POST", "/v1/auth/staff/login", "", map[string]string{"staff_id": "st-1", "password": "pass-st-1-long"}},
		{"GET", "/v1/views/applications/awaiting", staff, nil},
		{"GET", "/v1/no-such-route", "", nil},
		{"GET", "/v1/verify/XXXX", "", nil},
		{"GET", "/healthz", "", nil},
	} {
		h := get(c.method, c.path, c.token, c.body)
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if h.Get(k) != want {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, h.Get(k), want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s: CSP %q", c.method, c.path, csp)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.must(200, e.do("GET", p, "", "", nil)); strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
			t.Errorf("public %s answers %s, want the status only", p, r.body)
		}
	}
	// The rate-limited operations document their 429.
	paths := e.must(200, e.do("GET", "/openapi.json", "", "", nil)).json(t)["paths"].(map[string]any)
	for _, p := range []string{"/v1/auth/staff/login", "/v1/auth/customer/login", "/v1/applications"} {
		post := paths[p].(map[string]any)["post"].(map[string]any)
		if _, ok := post["responses"].(map[string]any)["429"]; !ok || post["x-rate-limit"] == nil {
			t.Errorf("POST %s does not document its rate limit", p)
		}
	}
	ops := httptest.NewServer(e.a.API.OpsHandler())
	defer ops.Close()
	res, err := http.Get(ops.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "gantry_http_request_duration_seconds") {
		t.Fatalf("ops /metrics: %d %s", res.StatusCode, short(b))
	}
	if r := e.do("GET", "/metrics", "", "", nil); r.code != 404 {
		t.Fatalf("public /metrics: %d, want 404", r.code)
	}
}

// TestRateLimitClientAddress: X-Forwarded-For cannot dodge the limit unless
// the connection comes from a configured proxy.
func TestRateLimitClientAddress(t *testing.T) {
	for _, c := range []struct {
		name    string
		proxies string
		want    []int
	}{
		{"no_trusted_proxy_ignores_x_forwarded_for", "", []int{404, 404, 429}},
		{"trusted_proxy_counts_each_client", "127.0.0.1", []int{404, 404, 404}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, err := api.ParseTrustedProxies(c.proxies)
			if err != nil {
				t.Fatal(err)
			}
			e := startHardened(t, func(cfg *app.Config) {
				cfg.Security.TrustedProxies = ps
				cfg.Security.Limits = roomyLimits()
				cfg.Security.Limits[api.LimitVerify] = api.Rates{Addr: api.Rate{N: 2, Per: time.Minute}}
			})
			for i, want := range c.want {
				r := e.request("GET", "/v1/verify/AAAA-BBBB-CCCC-DDDD-EEEE", "", map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1)}, nil)
				if r.code != want {
					t.Fatalf("request %d from 203.0.113.%d: %d %s, want %d", i+1, i+1, r.code, short(r.body), want)
				}
			}
		})
	}
}
