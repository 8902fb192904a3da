// Package mail sends Gantry's mails over SMTP and renders the setup mails.
package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/adapters/bus"
)

// Attachment is a file attached to a mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one mail. ID is a stable Message-ID so that a re-delivery (the
// bus delivers at least once) can be recognised by the receiving side.
type Message struct {
	ID          string
	To          string
	Subject     string
	Body        string
	Attachments []Attachment
}

// Sender sends mail through one SMTP server (no auth, as to a local relay).
type Sender struct {
	Addr string
	From string
}

// UnavailableError is a failure that may pass: the SMTP server could not be
// reached, dropped the connection, or answered 4xx (try again later).
// Temporary reports true, so the bus keeps the mail and retries it until
// the server takes it.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string   { return "mail: smtp server unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error   { return e.Err }
func (e *UnavailableError) Temporary() bool { return true }

// Send delivers m. It fails with an *UnavailableError when the server is
// down or answers 4xx; a 5xx answer (the server refuses this mail for good)
// is returned as the *textproto.Error it is. Once the server has accepted
// the data the mail counts as sent, whatever happens to the QUIT after it,
// so a retry does not send it twice.
//
// Sent while the bus delivers an integration message, the mail's
// Message-ID is that message's stable ID, so a repeat after a crash is the
// same message to the mail client.
func (s Sender) Send(ctx context.Context, m Message) error {
	if id := bus.MessageID(ctx); id != "" {
		m.ID = id + "@gantry"
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return &UnavailableError{fmt.Errorf("smtp %s: %w", s.Addr, err)}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return classify(fmt.Errorf("smtp hello: %w", err))
	}
	defer c.Close()
	if err := c.Mail(s.From); err != nil {
		return classify(err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return classify(err)
	}
	w, err := c.Data()
	if err != nil {
		return classify(err)
	}
	if _, err := w.Write(s.render(m)); err != nil {
		return classify(err)
	}
	if err := w.Close(); err != nil {
		return classify(err)
	}
	_ = c.Quit() // the server has taken the mail
	return nil
}

// classify tells a permanent refusal (5xx) from a failure that may pass.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return fmt.Errorf("mail: smtp refused: %w", err)
	}
	return &UnavailableError{err}
}

func (s Sender) render(m Message) []byte {
	var b bytes.Buffer
	boundary := "gantry-" + strings.ReplaceAll(m.ID, "@", "-")
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", s.From, m.To, mime.BEncoding.Encode("UTF-8", m.Subject), m.ID)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", boundary, wrap64(base64.StdEncoding.EncodeToString([]byte(m.Body))))
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", boundary, a.ContentType, a.Name, wrap64(base64.StdEncoding.EncodeToString(a.Data)))
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
