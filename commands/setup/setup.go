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
	"crypto/rand"
	"crypto/sha256"
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

// Hasher makes and checks slow hashes of passcodes (bcrypt).
type Hasher struct{ Cost int }

// Hash returns the bcrypt hash of secret.
func (h Hasher) Hash(secret string) (string, error) {
	cost := h.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	return string(b), err
}

// Verify reports whether attempt matches hash.
func (h Hasher) Verify(hash, attempt string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(attempt)) == nil
}

var _ commands.Clock = commands.SystemClock{}

// randomCode returns n characters from an alphabet without look-alikes.
func randomCode(n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	var s strings.Builder
	for _, x := range b {
		s.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return s.String()
}

// NewApplicationID returns a fresh application ID.
func NewApplicationID() string { return "AP-" + randomCode(12) }

// NewPasscode returns a fresh passcode (10 characters).
func NewPasscode() string { return randomCode(10) }

// NewSetupID returns a fresh setup ID.
func NewSetupID() string { return "SU-" + randomCode(12) }

// NewCertificateNumber returns a fresh certificate number.
func NewCertificateNumber() string { return "SC-" + randomCode(12) }

// NewLinkSecret returns a fresh download-link secret (160 bits).
func NewLinkSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// HashToken is the hash of a link secret that events store.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
