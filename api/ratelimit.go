package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Limit opts a route into rate limiting (Op.Limit). Class names the rates
// (Config.Limits, GANTRY_RATE_LIMITS); requests are counted per client
// address and, when Target names one, per target identifier (the staff ID or
// application ID a login tries, the link token a download uses), so an
// attacker spreading guesses over many addresses still meets the target's
// limit. The zero Limit is no limit.
type Limit struct {
	Class string
	// Target returns the identifier the request acts on; body holds up to
	// the first 64 KiB of the request body (the handler still reads all of
	// it). "" counts the address only.
	Target func(c echo.Context, body []byte) string
}

// Rate is a token bucket: N requests per Per, in a burst of up to N.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// Rates are a class's limits: per client address and per target.
type Rates struct {
	Addr, Target Rate
}

// Limit classes of the built-in routes.
const (
	LimitLogin    = "login"    // staff and customer login (and future card logins)
	LimitApply    = "apply"    // web application: a bcrypt hash and a mail each
	LimitVerify   = "verify"   // public certificate verification
	LimitDownload = "download" // certificate download by mailed link
)

// DefaultLimits are the rates when configuration names none (README,
// "Security and privacy").
func DefaultLimits() map[string]Rates {
	return map[string]Rates{
		LimitLogin:    {Addr: Rate{20, time.Minute}, Target: Rate{10, 15 * time.Minute}},
		LimitApply:    {Addr: Rate{10, time.Hour}},
		LimitVerify:   {Addr: Rate{60, time.Minute}},
		LimitDownload: {Addr: Rate{30, time.Minute}, Target: Rate{10, time.Hour}},
	}
}

// ParseLimits reads "class.addr=N/dur,class.target=N/dur,…" over the
// defaults: GANTRY_RATE_LIMITS="login.addr=5/1m,verify.addr=100/1m".
func ParseLimits(s string) (map[string]Rates, error) {
	out := DefaultLimits()
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		class, kind, ok2 := strings.Cut(k, ".")
		n, per, ok3 := strings.Cut(v, "/")
		if !ok || !ok2 || !ok3 || (kind != "addr" && kind != "target") {
			return nil, fmt.Errorf("rate limit %q: write class.addr=N/duration or class.target=N/duration", part)
		}
		count, err := strconv.Atoi(n)
		if err != nil || count < 1 {
			return nil, fmt.Errorf("rate limit %q: N must be a positive integer", part)
		}
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("rate limit %q: the period must be a duration such as 1m", part)
		}
		r := out[class]
		if kind == "addr" {
			r.Addr = Rate{count, d}
		} else {
			r.Target = Rate{count, d}
		}
		out[class] = r
	}
	return out, nil
}

// limiter keeps one token bucket per key in a bounded map. A bucket that
// has refilled is the same as a new one, so it is dropped when the map is
// full; if every bucket is still draining, the fullest (least active) ones
// are dropped, so memory stays bounded under an attack from many addresses
// while the keys being refused are kept.
type limiter struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	bkts map[string]*rate.Limiter
}

func newLimiter(max int, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{max: max, now: now, bkts: map[string]*rate.Limiter{}}
}

// take spends one token of key's bucket; it answers how long to wait when
// there is none (nothing is spent then).
func (l *limiter) take(key string, r Rate) (ok bool, wait time.Duration) {
	if r.N <= 0 || r.Per <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bkts[key]
	if b == nil {
		if len(l.bkts) >= l.max {
			l.evict(now)
		}
		b = rate.NewLimiter(rate.Every(r.Per/time.Duration(r.N)), r.N)
		l.bkts[key] = b
	}
	res := b.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Take implements RateStore in this process's memory.
func (l *limiter) Take(_ context.Context, key string, r Rate) (bool, time.Duration, error) {
	ok, wait := l.take(key, r)
	return ok, wait, nil
}

func (l *limiter) evict(now time.Time) {
	type fill struct {
		key  string
		full float64
	}
	var keep []fill
	for k, b := range l.bkts {
		f := b.TokensAt(now) / float64(b.Burst())
		if f >= 1 {
			delete(l.bkts, k)
			continue
		}
		keep = append(keep, fill{k, f})
	}
	target := l.max * 9 / 10
	if len(l.bkts) <= target {
		return
	}
	// The fullest buckets (the least active keys) go first; the keys being
	// refused right now stay.
	slices.SortFunc(keep, func(a, b fill) int { return cmp.Compare(b.full, a.full) })
	for _, f := range keep[:len(keep)-target] {
		delete(l.bkts, f.key)
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.bkts)
}

// TooManyRequests is a 429 problem; the handler sets Retry-After from wait.
type TooManyRequests struct {
	Wait   time.Duration
	Detail string
}

func (e *TooManyRequests) Error() string { return "too_many_requests: " + e.Detail }

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

func (s *Server) rateLimit(l Limit) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			rates := s.limits[l.Class]
			addr := c.RealIP()
			ctx := c.Request().Context()
			if ok, wait, err := s.rates.Take(ctx, l.Class+"|addr|"+addr, rates.Addr); err != nil {
				return err
			} else if !ok {
				return &TooManyRequests{Wait: wait, Detail: fmt.Sprintf("Too many requests from your address; wait %s seconds and try again.", retryAfter(wait))}
			}
			if l.Target == nil || rates.Target.N <= 0 {
				return next(c)
			}
			var body []byte
			if req := c.Request(); req.Body != nil && req.Body != http.NoBody {
				var err error
				body, err = io.ReadAll(io.LimitReader(req.Body, 64<<10))
				if err != nil {
					return BadRequest("unreadable_body", "The request body could not be read.")
				}
				req.Body = readCloser{io.MultiReader(bytes.NewReader(body), req.Body), req.Body}
			}
			if t := l.Target(c, body); t != "" {
				if ok, wait, err := s.rates.Take(ctx, l.Class+"|target|"+t, rates.Target); err != nil {
					return err
				} else if !ok {
					return &TooManyRequests{Wait: wait, Detail: fmt.Sprintf("Too many attempts for this ID; wait %s seconds and try again.", retryAfter(wait))}
				}
			}
			return next(c)
		}
	}
}

// PathTarget counts requests per value of the path parameter name.
func PathTarget(name string) func(echo.Context, []byte) string {
	return func(c echo.Context, _ []byte) string { return c.Param(name) }
}

// JSONTarget counts requests per value of the top-level string field name
// of the JSON body (unreadable bodies count under the address only).
func JSONTarget(name string) func(echo.Context, []byte) string {
	return func(_ echo.Context, body []byte) string {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return ""
		}
		var s string
		if json.Unmarshal(m[name], &s) != nil {
			return ""
		}
		return s
	}
}

// IPExtractor returns how the client address is found: the connection's
// address, unless it is one of the trusted proxies, in which case the
// right-most X-Forwarded-For entry that is not a trusted proxy. Nothing is
// trusted by default (not even loopback or private networks).
func IPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads GANTRY_TRUSTED_PROXIES: comma-separated
// addresses or CIDR ranges.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("GANTRY_TRUSTED_PROXIES: %q is not an address or CIDR range", p)
		}
		out = append(out, n)
	}
	return out, nil
}
