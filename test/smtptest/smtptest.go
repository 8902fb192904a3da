// Package smtptest runs an in-process SMTP server for tests and keeps the
// mails that arrive, so tests read what Gantry really sent over SMTP.
package smtptest

import (
	"encoding/base64"
	"io"
	"mime"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Inbox keeps every mail delivered to it (the raw message, headers and
// body). The zero value is ready; Serve or Start puts it on the network.
type Inbox struct {
	// Delay makes the server answer each mail's data this much late (a
	// slow mail server); set it before the first mail.
	Delay time.Duration

	mu    sync.Mutex
	mails []Mail
}

// Mail is one delivered message with its envelope.
type Mail struct {
	From string
	To   []string
	Data string
}

// Start serves a new Inbox on a free loopback port until the test ends and
// returns it with its address.
func Start(t testing.TB) (*Inbox, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Inbox{}
	b.Serve(t, ln)
	return b, ln.Addr().String()
}

// Serve runs the SMTP server on ln until the test ends (or the returned
// server is closed, to take the mail server down).
func (b *Inbox) Serve(t testing.TB, ln net.Listener) *smtp.Server {
	ss := smtp.NewServer(b)
	ss.Domain, ss.AllowInsecureAuth = "localhost", true
	go ss.Serve(ln)
	t.Cleanup(func() { ss.Close() })
	return ss
}

// NewSession implements smtp.Backend.
func (b *Inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b *Inbox
	m Mail
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.m.From = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.To = append(s.m.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	d, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(s.b.Delay)
	s.m.Data = string(d)
	s.b.mu.Lock()
	s.b.mails = append(s.b.mails, s.m)
	s.b.mu.Unlock()
	s.m = Mail{}
	return nil
}
func (s *session) Reset()        { s.m = Mail{} }
func (s *session) Logout() error { return nil }

// All returns the raw messages delivered so far.
func (b *Inbox) All() []string {
	var out []string
	for _, m := range b.Mails() {
		out = append(out, m.Data)
	}
	return out
}

// Mails returns the messages delivered so far with their envelopes.
func (b *Inbox) Mails() []Mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Mail(nil), b.mails...)
}

// Wait returns the raw messages once at least n arrived, or fails the test
// after 10 seconds.
func (b *Inbox) Wait(t testing.TB, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := b.All(); len(m) >= n {
			return m
		}
	}
	t.Fatalf("expected %d mails, got %d", n, len(b.All()))
	return nil
}

var base64Part = regexp.MustCompile(`(?s)Content-Transfer-Encoding: base64\r\n\r\n(.*?)\r\n--`)

// Decode returns a raw message with its encoded headers decoded and the
// text of each base64 part appended, for tests to search.
func Decode(raw string) string {
	out := raw
	if s, err := new(mime.WordDecoder).DecodeHeader(raw); err == nil {
		out = s
	}
	for _, m := range base64Part.FindAllStringSubmatch(raw, -1) {
		b, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(m[1], "\r\n", ""))
		out += "\n" + string(b)
	}
	return out
}
