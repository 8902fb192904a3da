// Package setupapi is the HTTP API of the setup area: customer, tablet,
// store-PC, admin and public verification endpoints.
package setupapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/commands/accounts"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/projections/privacy"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

// API holds what the handlers need; cmd/gantry/app builds it. The handlers
// only translate HTTP: state changes go through commands/setup and
// commands/accounts, lists through the Views reader.
type API struct {
	Streams   commands.Streams
	Clock     commands.Clock
	Hasher    cmds.Hasher
	Renderer  CertificateRenderer
	Verifier  CodeKey
	PublicURL string
	// Views reads the setup area's views.
	Views proj.Reader
	// Privacy reports where a data subject's data lives.
	Privacy privacy.Reader
	// Accounts is the staff-account table; Documents keeps signed consent
	// PDFs (both adapters/postgres).
	Accounts interface {
		accounts.StaffWriter
		accounts.StaffFinder
		accounts.StaffChanger
		cmds.Stores
	}
	Documents cmds.DocumentStore
	// Bootstrap is an operator admin from configuration ("id:password"),
	// so that the first accounts can be created without a CLI.
	BootstrapID, BootstrapPassword string
	// DummyHash is a hash of Hasher's cost that no password matches: an
	// unknown staff ID costs the same bcrypt run as a known one.
	DummyHash string
	// PasswordPolicy judges new staff passwords (adapters/passwordpolicy).
	PasswordPolicy accounts.PasswordPolicy
}

// CertificateRenderer renders a certificate PDF with its verification code
// and the URL of the public check (adapters/certpdf).
type CertificateRenderer interface {
	Render(c certificate.Content, code, verifyURL string) ([]byte, error)
}

// CodeKey computes certificate verification codes: HMAC-SHA256 over the
// certificate's canonical content with a server key, first 100 bits in
// base32, grouped by four.
type CodeKey []byte

// Code returns the verification code of canonical.
func (k CodeKey) Code(canonical []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write(canonical)
	s := base32.StdEncoding.EncodeToString(m.Sum(nil))[:20]
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:i+4])
	}
	return strings.Join(parts, "-")
}

func (a *API) reads() cmds.Reads { return cmds.Reads{Streams: a.Streams} }
