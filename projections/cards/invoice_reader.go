package cards

import (
	"context"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// StreamLoader replays one stream of domain events (commands.Streams).
type StreamLoader interface {
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
}

// InvoiceReader answers an invoice's effective content (the issued
// statement with every adjustment applied) from the invoice's own stream:
// the documents view keeps only the totals finance searches by. Reading the
// stream also makes the answer current right after a billing run.
type InvoiceReader struct {
	Streams StreamLoader
	// StreamOf names an invoice's stream (commands/cards.InvoiceStream).
	StreamOf func(billing.InvoiceNumber) string
}

// Invoice returns the invoice and its stream version (the ETag);
// billing.ErrInvoiceNotIssued when there is none.
func (r InvoiceReader) Invoice(ctx context.Context, n billing.InvoiceNumber) (*billing.Invoice, int64, error) {
	inv := new(billing.Invoice)
	v, err := r.Streams.Load(ctx, r.StreamOf(n), inv.Apply)
	if err != nil {
		return nil, 0, err
	}
	if !inv.Issued() {
		return nil, 0, billing.ErrInvoiceNotIssued
	}
	return inv, v, nil
}
