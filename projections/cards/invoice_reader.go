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

// LineReader reads an invoice document's stored lines
// (adapters/cardsdb.InvoiceLines).
type LineReader interface {
	Lines(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error)
}

// InvoiceReader answers an invoice's effective content (the issued
// statement with every adjustment applied) from the invoice's own stream:
// the documents view keeps only the totals finance searches by. Reading the
// stream also makes the answer current right after a billing run. The
// events commit to their lines; the lines come from Lines, checked against
// each commitment (billing.Hydrate).
type InvoiceReader struct {
	Streams StreamLoader
	Lines   LineReader
	// StreamOf names an invoice's stream (commands/cards.InvoiceStream).
	StreamOf func(billing.InvoiceNumber) string
}

// Invoice returns the invoice and its stream version (the ETag);
// billing.ErrInvoiceNotIssued when there is none.
func (r InvoiceReader) Invoice(ctx context.Context, n billing.InvoiceNumber) (*billing.Invoice, int64, error) {
	inv := new(billing.Invoice)
	var evs []domain.Event
	v, err := r.Streams.Load(ctx, r.StreamOf(n), func(e domain.Event) { evs = append(evs, e) })
	if err != nil {
		return nil, 0, err
	}
	read := func(doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
		return r.Lines.Lines(ctx, doc, part)
	}
	for _, e := range evs {
		h, err := billing.Hydrate(e, read)
		if err != nil {
			return nil, 0, err
		}
		inv.Apply(h)
	}
	if !inv.Issued() {
		return nil, 0, billing.ErrInvoiceNotIssued
	}
	return inv, v, nil
}
