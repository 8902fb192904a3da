package api

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// The limiter's memory stays bounded under many addresses, and an address
// that keeps hammering is still limited after the map was swept.
func TestLimiterIsBounded(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(1000, func() time.Time { return now })
	r := Rate{N: 3, Per: time.Minute}
	for i := 0; i < 3; i++ {
		if ok, _ := l.take("attacker", r); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	for i := 0; i < 100_000; i++ {
		l.take("addr-"+strconv.Itoa(i), r)
		if n := l.size(); n > 1000 {
			t.Fatalf("%d keys kept, the bound is 1000", n)
		}
	}
	now = now.Add(20 * time.Second) // one token back
	if ok, _ := l.take("attacker", r); !ok {
		t.Fatal("a refilled token refused")
	}
	ok, wait := l.take("attacker", r)
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("fourth request within the minute: ok=%v wait=%s", ok, wait)
	}
}

func TestLimiterWaitIsRetryAfter(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10, func() time.Time { return now })
	r := Rate{N: 2, Per: time.Hour}
	l.take("k", r)
	l.take("k", r)
	ok, wait := l.take("k", r)
	if ok || retryAfter(wait) != "1800" {
		t.Fatalf("third of 2/h: ok=%v Retry-After=%s, want 1800", ok, retryAfter(wait))
	}
}

// X-Forwarded-For counts only from a configured proxy.
func TestClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff string
		trusted           bool
		want              string
	}{
		{"no_proxies_ignores_xff", "198.51.100.1:5000", "203.0.113.9", false, "198.51.100.1"},
		{"loopback_is_not_trusted_by_default", "127.0.0.1:5000", "203.0.113.9", false, "127.0.0.1"},
		{"trusted_proxy_gives_the_client", "10.1.2.3:5000", "203.0.113.9", true, "203.0.113.9"},
		{"spoofed_left_entries_skipped", "192.0.2.7:5000", "1.1.1.1, 203.0.113.9, 10.9.9.9", true, "203.0.113.9"},
		{"untrusted_peer_cannot_claim", "198.51.100.1:5000", "203.0.113.9", true, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ext echo.IPExtractor
			if tt.trusted {
				ext = IPExtractor(proxies)
			} else {
				ext = IPExtractor(nil)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			req.Header.Set("X-Forwarded-For", tt.xff)
			req.Header.Set("X-Real-IP", "6.6.6.6")
			if got := ext(req); got != tt.want {
				t.Fatalf("client = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits("login.addr=5/1m, verify.target=3/10s")
	if err != nil {
		t.Fatal(err)
	}
	if l[LimitLogin].Addr != (Rate{5, time.Minute}) || l[LimitVerify].Target != (Rate{3, 10 * time.Second}) || l[LimitApply] != DefaultLimits()[LimitApply] {
		t.Fatalf("parsed %v", l)
	}
	for _, bad := range []string{"login=5/1m", "login.addr=0/1m", "login.addr=5/soon", "login.other=5/1m"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
