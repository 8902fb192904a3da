package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// Print is store staff printing a certificate of their own store.
// ExpectedVersion is the certificate version the caller read (If-Match), or -1.
type Print struct {
	Number          string
	StoreID         string
	StaffID         string
	ExpectedVersion int64
}

// PrintHandler logs prints (who, where, when).
type PrintHandler struct {
	Streams EventStreams
	Clock   commands.Clock
}

// Handle records the print and returns the certificate to render.
func (h PrintHandler) Handle(ctx context.Context, cmd Print) (*certificate.Certificate, error) {
	c, v, err := Reads{h.Streams}.Certificate(ctx, cmd.Number)
	if err != nil {
		return nil, err
	}
	if c.Content().StoreID != cmd.StoreID {
		return nil, certificate.ErrNotFound // another store's is not revealed
	}
	if err := commands.CheckIfMatch(CertificateStream(cmd.Number), cmd.ExpectedVersion, v); err != nil {
		return nil, err
	}
	evs, err := c.Print(certificate.Print{StoreID: cmd.StoreID, StaffID: cmd.StaffID}, h.Clock.Now())
	if err != nil {
		return nil, err
	}
	if _, err := h.Streams.Append(ctx, CertificateStream(cmd.Number), v, evs...); err != nil {
		return nil, err
	}
	return c, nil
}
