// Package mail sends Gantry's mails over SMTP and renders the setup mails.
package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
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
// A server that is down makes Send fail; the bus retries later.
type Sender struct {
	Addr string
	From string
}

// Send delivers m.
func (s Sender) Send(ctx context.Context, m Message) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail: smtp %s: %w", s.Addr, err)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: smtp hello: %w", err)
	}
	defer c.Close()
	if err := c.Mail(s.From); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(s.render(m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
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
