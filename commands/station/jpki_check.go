package station

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
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
// authentication CA) and OCSP.
type JPKICheckHandler struct {
	DB      DB
	Streams cmds.EventStreams
	Clock   commands.Clock
	Roots   *x509.CertPool
	OCSP    Revocation
}

// Handle consumes the challenge, verifies chain and signature, asks OCSP,
// and records the result (passed: good; failed: revoked or unknown) with
// method, certificate serial and issuer only. A responder that is down is
// ErrOCSPUnavailable and nothing is recorded.
func (h JPKICheckHandler) Handle(ctx context.Context, cmd JPKICheck) (JPKIResult, error) {
	if h.Roots == nil || h.OCSP == nil {
		return JPKIResult{}, ErrJPKINotConfigured
	}
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return JPKIResult{}, err
	}
	defer tx.Rollback(ctx)
	now := h.Clock.Now()
	nonce, subject, err := consume(ctx, tx, cmd.ChallengeID, cardauth.PurposeJPKI, now)
	if err == nil && subject != cmd.SetupID {
		err = ErrChallengeUnknown
	}
	if err != nil {
		return JPKIResult{}, finish(ctx, tx, errors.Is(err, ErrChallengeExpired), err)
	}
	st, err := h.verify(ctx, cmd, nonce, now)
	if err := finish(ctx, tx, true, err); err != nil {
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
