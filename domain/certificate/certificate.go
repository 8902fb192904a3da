// Package certificate is the Certificate aggregate (セットアップ証明書): issued on
// the setup's completion notice, downloaded by the customer through a mailed
// link valid 60 days from sending, printed at the store, its link reissued.
//
// Command methods decide and never mutate; Apply is the only mutation.
package certificate

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// LinkValidity is how long a download link works after it is sent: exactly
// 60 days (Japan has no daylight saving time, so 60×24h).
const LinkValidity = 60 * 24 * time.Hour

// Certificate is the Certificate aggregate. The zero value (or New()) is not issued.
type Certificate struct {
	issued    bool
	content   Content
	token     string
	expiresAt time.Time
	oldTokens []string
	downloads int
	prints    int
}

// New returns a certificate with no history.
func New() *Certificate { return &Certificate{} }

// Load replays events into a new certificate.
func Load(events []domain.Event) *Certificate {
	c := New()
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

// Content is the certificate's content (zero before issue).
func (c *Certificate) Content() Content { return c.content }

// Downloads is the number of downloads so far.
func (c *Certificate) Downloads() int { return c.downloads }

// Prints is the number of store prints so far.
func (c *Certificate) Prints() int { return c.prints }

// LinkExpiresAt is when the current link stops working (zero if none sent).
func (c *Certificate) LinkExpiresAt() time.Time { return c.expiresAt }

// CanonicalContent returns the deterministic bytes of the certificate's true
// content, for checking a verification code (an HMAC or hash computed
// outside the domain). Format "gantry-setup-certificate/v1", then one
// "key=value" line per item in this fixed order, LF-terminated, UTF-8:
// number, obu_number, vehicle_type, plate, gross_weight_kg (decimal),
// towing (true|false), setup_date (YYYY-MM-DD), store. Values never contain
// a newline (Issue refuses them). Changing this format needs a new version tag.
func (c *Certificate) CanonicalContent() []byte {
	return c.content.canonical()
}

// Canonical is CanonicalContent of a certificate with content x.
func (x Content) Canonical() []byte { return x.canonical() }

func (x Content) canonical() []byte {
	var b strings.Builder
	b.WriteString("gantry-setup-certificate/v1\n")
	for _, kv := range [][2]string{
		{"number", x.Number},
		{"obu_number", x.OBUNumber},
		{"vehicle_type", x.VehicleType},
		{"plate", x.Plate},
		{"gross_weight_kg", strconv.Itoa(x.GrossWeightKg)},
		{"towing", strconv.FormatBool(x.Towing)},
		{"setup_date", x.SetupDate.String()},
		{"store", x.StoreID},
	} {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	return []byte(b.String())
}

func isToken(v string) bool {
	if len(v) == 0 || len(v) > 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-') {
			return false
		}
	}
	return true
}

func blankOrMultiline(v string) bool {
	return strings.TrimSpace(v) == "" || strings.ContainsAny(v, "\r\n")
}

// Issue issues the certificate from the setup's completion notice
// (setup.CompletionNotified): copy its OBU number, vehicle type, plate,
// weight, towing, setup date and store; Number is allocated by the caller.
type Issue struct {
	Content       Content
	SetupID       string
	ApplicationID string
	// VerificationCode is the code of Content.Canonical() (computed with a
	// server key outside the domain).
	VerificationCode string
}

// Issue decides issuing the certificate.
func (c *Certificate) Issue(cmd Issue, now time.Time) ([]domain.Event, error) {
	if c.issued {
		return nil, ErrAlreadyIssued.With("number", "")
	}
	x := cmd.Content
	if !isToken(x.Number) {
		return nil, ErrInvalidNumber.With("number", "")
	}
	if len(x.OBUNumber) != 19 || strings.Trim(x.OBUNumber, "0123456789") != "" {
		return nil, ErrInvalidOBUNumber.With("obu_number", "")
	}
	switch {
	case blankOrMultiline(x.VehicleType):
		return nil, ErrMissingField.With("vehicle_type", "Give the vehicle type (車種) on one line.")
	case blankOrMultiline(x.Plate):
		return nil, ErrMissingField.With("plate", "Give the plate number (自動車登録番号) on one line.")
	case x.GrossWeightKg < 1:
		return nil, ErrMissingField.With("gross_weight_kg", "Give the gross vehicle weight (車両総重量) in kilograms.")
	case x.SetupDate.IsZero():
		return nil, ErrMissingField.With("setup_date", "Give the setup date.")
	case blankOrMultiline(x.StoreID):
		return nil, ErrMissingField.With("store_id", "Give the setup store.")
	}
	vehicle := domain.Seal(cmd.ApplicationID, VehicleIDs{Plate: x.Plate, OBUNumber: x.OBUNumber})
	x.Plate, x.OBUNumber = "", ""
	return []domain.Event{Issued{Content: x, Vehicle: vehicle, VerificationCode: cmd.VerificationCode,
		SetupID: cmd.SetupID, ApplicationID: cmd.ApplicationID, At: now}}, nil
}

// SendLink records mailing the first download link. Token is opaque and
// given by the caller; pass a hash of the URL secret if the raw secret must
// not be stored in events (and hash the presented token the same way on
// Download).
type SendLink struct {
	Token string
}

// SendLink decides sending the first link; valid until now + 60 days.
func (c *Certificate) SendLink(cmd SendLink, now time.Time) ([]domain.Event, error) {
	if !c.issued {
		return nil, ErrNotFound
	}
	if c.token != "" {
		return nil, ErrLinkAlreadySent
	}
	if strings.TrimSpace(cmd.Token) == "" {
		return nil, ErrMissingToken.With("token", "")
	}
	return []domain.Event{LinkSent{Number: c.content.Number, Token: cmd.Token, SentAt: now, ExpiresAt: now.Add(LinkValidity)}}, nil
}

// Reissue replaces the link with a new token (mailed again); the old token
// stops working at once (ErrLinkReplaced). Allowed before or after expiry.
type Reissue struct {
	Token string
}

// Reissue decides the reissue.
func (c *Certificate) Reissue(cmd Reissue, now time.Time) ([]domain.Event, error) {
	if !c.issued {
		return nil, ErrNotFound
	}
	if c.token == "" {
		return nil, ErrNoLink
	}
	if strings.TrimSpace(cmd.Token) == "" {
		return nil, ErrMissingToken.With("token", "")
	}
	if cmd.Token == c.token || c.wasToken(cmd.Token) {
		return nil, ErrSameToken.With("token", "")
	}
	return []domain.Event{LinkReissued{Number: c.content.Number, Token: cmd.Token, SentAt: now, ExpiresAt: now.Add(LinkValidity)}}, nil
}

func (c *Certificate) wasToken(t string) bool {
	for _, old := range c.oldTokens {
		if subtle.ConstantTimeCompare([]byte(old), []byte(t)) == 1 {
			return true
		}
	}
	return false
}

// Download is the customer following the link with Token.
type Download struct {
	Token string
}

// Download decides a download: the current token before its expiry
// (now < sent + 60 days). A replaced token is ErrLinkReplaced (Gone), an
// expired one ErrLinkExpired (Gone), any other ErrUnknownToken (NotFound).
func (c *Certificate) Download(cmd Download, now time.Time) ([]domain.Event, error) {
	if !c.issued {
		return nil, ErrNotFound
	}
	if c.token == "" || subtle.ConstantTimeCompare([]byte(c.token), []byte(cmd.Token)) != 1 {
		if cmd.Token != "" && c.wasToken(cmd.Token) {
			return nil, ErrLinkReplaced
		}
		return nil, ErrUnknownToken
	}
	if !now.Before(c.expiresAt) {
		return nil, ErrLinkExpired.Withf("", "This download link expired on %s, 60 days after it was sent; ask the store to reissue it or to print the certificate.", c.expiresAt.In(domain.Tokyo).Format("2006-01-02 15:04"))
	}
	return []domain.Event{Downloaded{Number: c.content.Number, Count: c.downloads + 1, At: now}}, nil
}

// Print is store staff printing the certificate from the management site.
type Print struct {
	StoreID string
	StaffID string
}

// Print decides a print; it is always allowed once issued (no expiry).
func (c *Certificate) Print(cmd Print, now time.Time) ([]domain.Event, error) {
	if !c.issued {
		return nil, ErrNotFound
	}
	if strings.TrimSpace(cmd.StoreID) == "" || strings.TrimSpace(cmd.StaffID) == "" {
		return nil, ErrMissingStaff.With("staff_id", "")
	}
	return []domain.Event{Printed{Number: c.content.Number, StoreID: cmd.StoreID, StaffID: cmd.StaffID, At: now}}, nil
}

// Apply evolves the certificate by one event; it never fails.
func (c *Certificate) Apply(e domain.Event) {
	switch e := e.(type) {
	case Issued:
		c.issued, c.content = true, e.FullContent()
	case LinkSent:
		c.token, c.expiresAt = e.Token, e.ExpiresAt
	case LinkReissued:
		if c.token != "" {
			c.oldTokens = append(c.oldTokens, c.token)
		}
		c.token, c.expiresAt = e.Token, e.ExpiresAt
	case Downloaded:
		c.downloads = e.Count
	case Printed:
		c.prints++
	}
}
