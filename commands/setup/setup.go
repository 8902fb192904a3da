// Package setup holds the commands of the setup area: web and proxy
// applications, proxy consents, reception, the tablet steps (step.go, one
// table of inputs), certificates, the unlock of a locked reception, and the
// time-driven expiry and retention rules (due.go: the scheduler's jobs find
// candidates through projections/setup.Reader, the domain decides on each).
//
// One command per file. Each handler declares the ports it uses
// (EventStreams, Shredder, DocumentStore, the finders of due work) and is
// tested with hand-written fakes of them (fakes_test.go): given events,
// when the command, then the appended events or the error — no database.
// A command that honours If-Match takes it as ExpectedVersion (-1: none).
// The schema versions of the events these commands write are in events.go.
package setup

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

// Stream names. They are stored on disk: never change them.
func ApplicationStream(id string) string { return "application-" + id }
func ConsentStream(id string) string     { return "consent-" + id }
func SetupStream(id string) string       { return "setup-" + id }
func CertificateStream(n string) string  { return "certificate-" + n }

// EventStreams loads and appends events (commands.Streams).
type EventStreams interface {
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
	Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error)
	AppendMany(ctx context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error)
}

// Shredder destroys a data subject's key (es.Sealer).
type Shredder interface {
	Shred(ctx context.Context, subject string) error
}

// Hasher makes and checks hashes of secrets. Human passwords (staff) get a
// slow hash, bcrypt (Hash). Secrets that Gantry draws itself (application
// passcodes) get HMAC-SHA-256 under the server's Key (HashSecret): guessing
// one needs the key, not only the stored hash, and online guesses are
// locked out, so a slow hash would add nothing but CPU on every command.
// Verify takes both forms, so the bcrypt hashes in older events ("$2…")
// stay valid.
type Hasher struct {
	Cost int
	// Key is the HMAC key of HashSecret (GANTRY_SECRET_KEY, or derived
	// from the KEK). Without a key, HashSecret falls back to bcrypt.
	Key []byte
}

// secretHashPrefix marks a keyed hash made by HashSecret.
const secretHashPrefix = "hmac-sha256$"

// HashSecret returns the keyed hash of a machine-generated secret:
// "hmac-sha256$" and the base64 of HMAC-SHA-256(Key, secret).
func (h Hasher) HashSecret(secret string) (string, error) {
	if len(h.Key) == 0 {
		return h.Hash(secret)
	}
	return secretHashPrefix + base64.RawStdEncoding.EncodeToString(h.mac(secret)), nil
}

func (h Hasher) mac(secret string) []byte {
	m := hmac.New(sha256.New, h.Key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// VerifyNothing spends what checking attempt against a keyed hash costs
// (one HMAC) and matches nothing; false without a key (the caller then
// spends a bcrypt check on a dummy hash instead).
func (h Hasher) VerifyNothing(attempt string) bool {
	if len(h.Key) == 0 {
		return false
	}
	h.Verify(secretHashPrefix, attempt)
	return true
}

// Hash returns the bcrypt hash of secret (human passwords).
func (h Hasher) Hash(secret string) (string, error) {
	cost := h.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	return string(b), err
}

// Verify reports whether attempt matches hash, a keyed hash of HashSecret
// or a bcrypt hash ("$2…").
func (h Hasher) Verify(hash, attempt string) bool {
	if rest, ok := strings.CutPrefix(hash, secretHashPrefix); ok {
		want, err := base64.RawStdEncoding.DecodeString(rest)
		got := h.mac(attempt)
		return err == nil && len(h.Key) > 0 && hmac.Equal(want, got)
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(attempt)) == nil
}

var _ commands.Clock = commands.SystemClock{}

// randomCode returns n characters from an alphabet without look-alikes,
// drawn for label (from the command's seed when the request carried an
// Idempotency-Key, so that a retry draws the same values).
func randomCode(ctx context.Context, label string, n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	commands.Random(ctx, label, b)
	var s strings.Builder
	for _, x := range b {
		s.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return s.String()
}

// NewApplicationID returns a fresh application ID.
func NewApplicationID(ctx context.Context) string {
	return "AP-" + randomCode(ctx, "application_id", 12)
}

// NewPasscode returns a fresh passcode (10 characters).
func NewPasscode(ctx context.Context) string { return randomCode(ctx, "passcode", 10) }

// NewSetupID returns a fresh setup ID.
func NewSetupID(ctx context.Context) string { return "SU-" + randomCode(ctx, "setup_id", 12) }

// NewCertificateNumber returns a fresh certificate number.
func NewCertificateNumber(ctx context.Context) string {
	return "SC-" + randomCode(ctx, "certificate_number", 12)
}

// NewLinkSecret returns a fresh download-link secret (160 bits).
func NewLinkSecret(ctx context.Context) string {
	b := make([]byte, 20)
	commands.Random(ctx, "link_secret", b)
	return hex.EncodeToString(b)
}

// HashToken is the hash of a link secret that events store.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
