package ocsp_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/ocsp"
	cmds "github.com/gantry-etc/gantry/commands/station"
	"github.com/gantry-etc/gantry/test/jpkitest"
)

func TestStatusAgainstARealResponder(t *testing.T) {
	ca := jpkitest.New(t)
	issue := func(serial int64) *x509.Certificate {
		der, _ := ca.Issue(t, serial)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good, revoked, unknown := issue(11), issue(12), issue(13)
	ca.Revoke(12)
	ca.Forget(13)
	c := ocsp.New(ca.OCSPURL, 2*time.Second)
	ctx := context.Background()
	for _, tc := range []struct {
		cert *x509.Certificate
		want cmds.RevocationStatus
	}{{good, cmds.Good}, {revoked, cmds.Revoked}, {unknown, cmds.Unknown}} {
		if got, err := c.Status(ctx, tc.cert, ca.Cert); err != nil || got != tc.want {
			t.Fatalf("serial %v: %v %v, want %v", tc.cert.SerialNumber, got, err, tc.want)
		}
	}
	// The certificate's own responder is used when none is configured.
	if got, err := ocsp.New("", 2*time.Second).Status(ctx, revoked, ca.Cert); err != nil || got != cmds.Revoked {
		t.Fatalf("AIA responder: %v %v", got, err)
	}
	ca.SetDown(true)
	if _, err := c.Status(ctx, good, ca.Cert); err == nil {
		t.Fatal("a responder that is down gave a status")
	}
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("not OCSP")) }))
	defer junk.Close()
	if _, err := ocsp.New(junk.URL, time.Second).Status(ctx, good, ca.Cert); err == nil {
		t.Fatal("an unreadable answer gave a status")
	}
}
