package setup

import (
	"context"
	"errors"
	"strings"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// Download is a customer opening the mailed link; Token is
// "<certificate number>.<secret>" as it appears in the URL.
type Download struct{ Token string }

// DownloadHandler counts downloads of valid links.
type DownloadHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle checks the link (60 days from sending, not replaced) and records
// the download; it returns the certificate to render.
func (h DownloadHandler) Handle(ctx context.Context, cmd Download) (*certificate.Certificate, error) {
	number, secret, ok := strings.Cut(cmd.Token, ".")
	if !ok || number == "" || secret == "" {
		return nil, certificate.ErrUnknownToken
	}
	c, v, err := Reads{h.Streams}.Certificate(ctx, number)
	if errors.Is(err, certificate.ErrNotFound) {
		return nil, certificate.ErrUnknownToken
	}
	if err != nil {
		return nil, err
	}
	evs, err := c.Download(certificate.Download{Token: HashToken(secret)}, h.Clock.Now())
	if err != nil {
		return nil, err
	}
	if _, err := h.Streams.Append(ctx, CertificateStream(number), v, evs...); err != nil {
		return nil, err
	}
	for _, e := range evs {
		c.Apply(e)
	}
	return c, nil
}
