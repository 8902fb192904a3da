package station

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/cardauth"
	"github.com/gantry-etc/gantry/domain/setup"
)

// RevocationStatus is what OCSP says of a certificate.
type RevocationStatus int

const (
	Good RevocationStatus = iota + 1
	Revoked
	Unknown
)

// Revocation asks whether cert (issued by issuer) is revoked (OCSP). An
// error means it cannot be told now.
type Revocation interface {
	Status(ctx context.Context, cert, issuer *x509.Certificate) (RevocationStatus, error)
}

// Errors of the identity check.
var (
	ErrJPKINotConfigured = domain.Unavailable("jpki_not_configured", "The My Number card check needs the JPKI CA certificate (GANTRY_JPKI_CA) and an OCSP responder (GANTRY_OCSP_URL); check a paper document instead.")
	ErrJPKIBadCert       = domain.Invalid("jpki_bad_certificate", "The certificate read from the card is not a JPKI user-authentication certificate of the configured CA (or it has expired).")
	ErrJPKIBadSignature  = domain.Invalid("jpki_bad_signature", "The card's signature does not match the challenge and the certificate; nothing was recorded. Try again with a new challenge.")
	ErrOCSPUnavailable   = domain.Unavailable("revocation_check_unavailable", "The revocation status cannot be checked now (the OCSP responder does not answer); nothing was recorded. Try again later or check a paper document.")
)

// JPKICheck is step 6 with a My Number card: the certificate the station
// read and the card's signature over cardauth.Digest(PurposeJPKI, nonce)
// (RSA PKCS#1 v1.5 over SHA-256) for a challenge bound to the setup.
type JPKICheck struct {
	SetupID         string
	StoreID         string
	StaffID         string
	ExpectedVersion int64 // If-Match, or -1
	ChallengeID     string
	Certificate     []byte
	Signature       []byte
}

// JPKIResult is what was recorded.
type JPKIResult struct {
	Passed bool
	Status RevocationStatus
	Result es.AppendResult
}

// JPKICheckHandler checks the card against Roots (the JPKI user
// authentication CA) and OCSP. Its challenges are sealed (JPKIChallenges),
// not stored: the only write is the IdentityChecked append.
type JPKICheckHandler struct {
	Challenges JPKIChallenges
	Streams    cmds.EventStreams
	Clock      commands.Clock
	Roots      *x509.CertPool
	OCSP       Revocation
}

// Handle opens the challenge, verifies chain and signature, asks OCSP, and
// records the result (passed: good; failed: revoked or unknown) with
// method, certificate serial and issuer only. A responder that is down is
// ErrOCSPUnavailable and nothing is recorded. A challenge yields at most
// one record: it is bound to the setup, and a setup's identity step is
// recorded once (a second append is out of order).
func (h JPKICheckHandler) Handle(ctx context.Context, cmd JPKICheck) (JPKIResult, error) {
	if h.Roots == nil || h.OCSP == nil {
		return JPKIResult{}, ErrJPKINotConfigured
	}
	now := h.Clock.Now()
	nonce, err := h.Challenges.open(cmd.ChallengeID, cmd.SetupID, now)
	if err != nil {
		return JPKIResult{}, err
	}
	st, err := h.verify(ctx, cmd, nonce, now)
	if err != nil {
		return JPKIResult{}, err
	}
	cert, _ := x509.ParseCertificate(cmd.Certificate)
	passed := st == Good
	note := map[RevocationStatus]string{Good: "OCSP: good", Revoked: "OCSP: revoked", Unknown: "OCSP: unknown certificate"}[st]
	res, err := cmds.StepHandler{Streams: h.Streams, Clock: h.Clock}.Handle(ctx, cmds.Step{SetupID: cmd.SetupID, StoreID: cmd.StoreID, StaffID: cmd.StaffID,
		ExpectedVersion: cmd.ExpectedVersion, Input: cmds.CheckIdentity{Passed: passed, Method: setup.MethodJPKI, Note: note,
			CertificateSerial: cert.SerialNumber.String(), CertificateIssuer: cert.Issuer.String()}})
	return JPKIResult{Passed: passed, Status: st, Result: res}, err
}

func (h JPKICheckHandler) verify(ctx context.Context, cmd JPKICheck, nonce []byte, now time.Time) (RevocationStatus, error) {
	cert, err := x509.ParseCertificate(cmd.Certificate)
	if err != nil {
		return 0, ErrJPKIBadCert.With("certificate", "The certificate read from the card cannot be parsed: "+err.Error())
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: h.Roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil || len(chains) == 0 || len(chains[0]) < 2 {
		return 0, ErrJPKIBadCert.With("certificate", "")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return 0, ErrJPKIBadCert.With("certificate", "The certificate's key is not RSA.")
	}
	d := cardauth.Digest(cardauth.PurposeJPKI, nonce)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], cmd.Signature) != nil {
		return 0, ErrJPKIBadSignature.With("signature", "")
	}
	st, err := h.OCSP.Status(ctx, cert, chains[0][1])
	if err != nil {
		return 0, ErrOCSPUnavailable
	}
	return st, nil
}

// JPKIChallenges seals JPKI challenges with a server key instead of storing
// them: the challenge ID carries the nonce, the setup and the expiry,
// authenticated with HMAC-SHA256.
type JPKIChallenges struct {
	Key []byte
	TTL time.Duration
}

const jpkiChallengeLabel = "gantry jpki challenge v1"

func (c JPKIChallenges) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte(jpkiChallengeLabel))
	m.Write(payload)
	return m.Sum(nil)
}

// Issue makes a challenge for setupID valid until now + TTL.
func (c JPKIChallenges) Issue(setupID string, now time.Time) Challenge {
	nonce := make([]byte, 32)
	_, _ = rand.Read(nonce)
	exp := now.Add(c.TTL).UTC().Truncate(time.Second)
	payload := binary.BigEndian.AppendUint64(append([]byte{}, nonce...), uint64(exp.Unix()))
	payload = append(payload, setupID...)
	id := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(c.mac(payload))
	return Challenge{ID: id, Nonce: nonce, ExpiresAt: exp}
}

// open checks a challenge ID and answers its nonce.
func (c JPKIChallenges) open(id, setupID string, now time.Time) ([]byte, error) {
	body, tag, ok := strings.Cut(id, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(body)
	got, err2 := base64.RawURLEncoding.DecodeString(tag)
	if !ok || err1 != nil || err2 != nil || len(payload) < 40 || !hmac.Equal(got, c.mac(payload)) || string(payload[40:]) != setupID {
		return nil, ErrChallengeUnknown.With("challenge_id", "This challenge was not issued for this setup; ask for a new one.")
	}
	if !now.Before(time.Unix(int64(binary.BigEndian.Uint64(payload[32:40])), 0)) {
		return nil, ErrChallengeExpired
	}
	return payload[:32], nil
}
