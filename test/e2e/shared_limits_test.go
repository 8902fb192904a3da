package e2e

import (
	"net"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// Two `gantry serve` instances behind a load balancer, on one database
// with GANTRY_REPLICAS=on, share one rate-limit budget: logins for one
// staff ID alternating between them are refused (429 with Retry-After) once
// the ID's budget is spent, whichever instance is asked; without replicas
// each instance would have counted its own.
func TestRateLimitsSharedBetweenReplicas(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &smtptest.Inbox{}
	box.Serve(t, ln)
	limits := func(cfg *app.Config) {
		cfg.SMTPAddr = ln.Addr().String()
		cfg.Replicas = true
		cfg.Security.Limits = roomyLimits()
		cfg.Security.Limits[api.LimitLogin] = api.Rates{Addr: api.Rate{N: 1000, Per: time.Minute}, Target: api.Rate{N: 4, Per: time.Hour}}
	}
	one := startWith(t, box, limits)
	url := one.a.Pool.Config().ConnString()
	two := startWith(t, box, func(cfg *app.Config) { limits(cfg); cfg.DatabaseURL = url })

	wrong := map[string]string{"staff_id": "root", "password": "wrong-password-123"}
	var codes []int
	for i := range 6 {
		e := one
		if i%2 == 1 {
			e = two
		}
		r := e.do("POST", "/v1/auth/staff/login", "", "", wrong)
		codes = append(codes, r.code)
		if r.code == 429 && r.header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	want := []int{401, 401, 401, 401, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("login answers over the two instances %v, want %v", codes, want)
		}
	}
	// Another staff ID keeps its own budget on either instance.
	if r := two.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "nobody", "password": "wrong-password-123"}); r.code != 401 {
		t.Fatalf("another ID: %d", r.code)
	}
}
