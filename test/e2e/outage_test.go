package e2e

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// tcpProxy stands between Gantry and PostgreSQL so a test can take the
// database away (every connection cut, new ones refused) and bring it back.
type tcpProxy struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { io.Copy(u, c); u.Close(); c.Close() }()
		go func() { io.Copy(c, u); u.Close(); c.Close() }()
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// The database goes away while Gantry runs: requests get 503 problem+json
// (never 500), readiness says so, nothing is half-written; when it comes
// back Gantry recovers by itself, an Idempotency-Key retry goes through once,
// and the projectors and the mail that were waiting catch up.
func TestDatabaseLostWhileRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &smtptest.Inbox{}
	box.Serve(t, ln)
	var proxy *tcpProxy
	e := startWith(t, box, func(cfg *app.Config) {
		cfg.SMTPAddr = ln.Addr().String()
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy = newTCPProxy(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		cfg.DatabaseURL = u.String()
	})
	staff := e.staff("st-1", "store-A", "store_staff")
	e.must(201, e.do("POST", "/v1/applications", "", "", applicant))
	box.Wait(t, 1)
	before := e.eventCount()

	proxy.cut()
	key := uuid.NewString() // anonymous routes need an unguessable key
	for _, r := range []resp{
		e.doKey("POST", "/v1/applications", "", key, applicant),
		e.do("GET", "/v1/views/applications/awaiting", staff, "", nil),
		e.do("GET", "/readyz", "", "", nil),
	} {
		if r.code != http.StatusServiceUnavailable {
			t.Fatalf("database down: status %d, want 503: %s", r.code, r.body)
		}
	}
	r := e.doKey("POST", "/v1/applications", "", key, applicant)
	if r.code != 503 || !strings.HasPrefix(r.ctype, "application/problem+json") || !strings.Contains(string(r.body), `"unavailable"`) {
		t.Fatalf("command while down: %d %s %s", r.code, r.ctype, r.body)
	}

	proxy.restore()
	ready := false
	for i := 0; i < 300 && !ready; i++ {
		ready = e.do("GET", "/readyz", "", "", nil).code == 200
		time.Sleep(20 * time.Millisecond)
	}
	if !ready {
		t.Fatal("not ready again 6 s after the database came back")
	}
	if n := e.eventCount(); n != before {
		t.Fatalf("%d events written while the database was down", n-before)
	}
	first := e.must(201, e.doKey("POST", "/v1/applications", "", key, applicant)).json(t)
	again := e.must(201, e.doKey("POST", "/v1/applications", "", key, applicant)).json(t)
	if first["application_id"] != again["application_id"] {
		t.Fatalf("Idempotency-Key retry made a second application: %v, %v", first["application_id"], again["application_id"])
	}
	mails := box.Wait(t, 2)
	if len(mails) != 2 || !strings.Contains(smtptest.Decode(mails[1]), first["application_id"].(string)) {
		t.Fatalf("after recovery: %d mails", len(mails))
	}
	if e.must(200, e.do("GET", "/v1/views/applications/awaiting", staff, "", nil)).code != 200 {
		t.Fatal("views not served after recovery")
	}
}
