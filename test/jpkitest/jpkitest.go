// Package jpkitest is a test JPKI: a CA that issues user-authentication
// certificates (利用者証明用電子証明書) and a real OCSP responder over HTTP
// (golang.org/x/crypto/ocsp) that answers good or revoked, or is down.
package jpkitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// CA is the test JPKI user-authentication CA with its OCSP responder.
type CA struct {
	Cert    *x509.Certificate
	key     *rsa.PrivateKey
	PEMFile string // the CA certificate as a PEM file (GANTRY_JPKI_CA)
	OCSPURL string // the responder (GANTRY_OCSP_URL)

	mu      sync.Mutex
	revoked map[string]bool
	unknown map[string]bool
	down    bool
	asked   int
}

// New makes the CA and starts its responder (stopped when the test ends).
func New(t testing.TB) *CA {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI"}, OrganizationalUnit: []string{"JPKI for user authentication (test)"}},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Cert: cert, key: key, revoked: map[string]bool{}, unknown: map[string]bool{}}
	ca.PEMFile = filepath.Join(t.TempDir(), "jpki-ca.pem")
	if err := os.WriteFile(ca.PEMFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(ca.respond))
	t.Cleanup(srv.Close)
	ca.OCSPURL = srv.URL
	return ca
}

// Issue makes a user-authentication certificate with serial and its key.
// It carries no name, address, birth date or sex (like the real one).
func (ca *CA) Issue(t testing.TB, serial int64) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{Country: []string{"JP"}, CommonName: "test-user-auth"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: now.AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		OCSPServer: []string{ca.OCSPURL},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// Revoke marks a serial revoked from now on.
func (ca *CA) Revoke(serial int64) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.revoked[big.NewInt(serial).String()] = true
}

// Forget makes the responder answer "unknown" for a serial.
func (ca *CA) Forget(serial int64) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.unknown[big.NewInt(serial).String()] = true
}

// SetDown makes the responder drop every connection (down) or answer.
func (ca *CA) SetDown(down bool) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.down = down
}

// Asked counts the OCSP requests answered.
func (ca *CA) Asked() int {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return ca.asked
}

func (ca *CA) respond(w http.ResponseWriter, r *http.Request) {
	ca.mu.Lock()
	down := ca.down
	ca.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ca.mu.Lock()
	ca.asked++
	revoked := ca.revoked[req.SerialNumber.String()]
	unknown := ca.unknown[req.SerialNumber.String()]
	ca.mu.Unlock()
	now := time.Now()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
	switch {
	case revoked:
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, now.Add(-time.Minute), ocsp.KeyCompromise
	case unknown:
		tmpl.Status = ocsp.Unknown
	}
	der, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.key)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(der)
}

var _ crypto.Signer = (*rsa.PrivateKey)(nil)
