package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
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

// Handle records the print and returns the certificate to render and the
// append's result.
func (h PrintHandler) Handle(ctx context.Context, cmd Print) (*certificate.Certificate, es.AppendResult, error) {
	c, v, err := Reads{h.Streams}.Certificate(ctx, cmd.Number)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if c.Content().StoreID != cmd.StoreID {
		return nil, es.AppendResult{}, certificate.ErrNotFound // another store's is not revealed
	}
	if err := commands.CheckIfMatch(CertificateStream(cmd.Number), cmd.ExpectedVersion, v); err != nil {
		return nil, es.AppendResult{}, err
	}
	evs, err := c.Print(certificate.Print{StoreID: cmd.StoreID, StaffID: cmd.StaffID}, h.Clock.Now())
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	res, err := h.Streams.Append(ctx, CertificateStream(cmd.Number), v, evs...)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	return c, res, nil
}
