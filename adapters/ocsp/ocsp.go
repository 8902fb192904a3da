// Package ocsp asks an OCSP responder (RFC 6960, golang.org/x/crypto/ocsp)
// whether a JPKI certificate is revoked: the identity check's revocation
// port (station.Revocation). A responder that cannot be reached or answers
// something unreadable is an error — the check then says "cannot check
// now", never passes.
package ocsp

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"

	cmds "github.com/gantry-etc/gantry/commands/station"
)

// Client asks the responder at URL (empty: the certificate's own OCSP
// server), waiting at most Timeout.
type Client struct {
	URL    string
	client *http.Client
}

// New returns the client.
func New(url string, timeout time.Duration) *Client {
	return &Client{URL: url, client: &http.Client{Timeout: timeout}}
}

// Status implements the port.
func (c *Client) Status(ctx context.Context, cert, issuer *x509.Certificate) (cmds.RevocationStatus, error) {
	url := c.URL
	if url == "" && len(cert.OCSPServer) > 0 {
		url = cert.OCSPServer[0]
	}
	if url == "" {
		return 0, fmt.Errorf("no OCSP responder is configured (GANTRY_OCSP_URL) and the certificate names none")
	}
	der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: 0})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(der))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	res, err := c.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("OCSP responder: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("OCSP responder answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("OCSP responder: %w", err)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return 0, fmt.Errorf("OCSP answer: %w", err)
	}
	switch r.Status {
	case ocsp.Good:
		return cmds.Good, nil
	case ocsp.Revoked:
		return cmds.Revoked, nil
	}
	return cmds.Unknown, nil
}
