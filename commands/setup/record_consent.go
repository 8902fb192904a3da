package setup

import (
	"bytes"
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// DocumentStore keeps the signed consent PDF for its 5-year retention.
// ConsentPDFWrite prepares (seals) the PDF and returns its reference and
// the write that stores it; the write runs in the append's transaction, so
// the PDF and the event that references it commit together or not at all.
type DocumentStore interface {
	ConsentPDFWrite(ctx context.Context, consentID string, pdf []byte) (ref string, write es.TxWrite, err error)
}

// ConsentStreams loads a consent's stream and appends its first event with
// a side write in the same transaction (commands.Streams).
type ConsentStreams interface {
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
	Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error)
	AppendInTx(ctx context.Context, stream string, expected int64, write es.TxWrite, events ...domain.Event) (es.AppendResult, error)
}

// RecordConsent records a proxy consent (委任状) with its optional signed PDF.
type RecordConsent struct {
	Consent   application.RecordConsent
	SignedPDF []byte
}

// ErrNotAPDF: the signed consent is not a PDF file.
var ErrNotAPDF = domain.Invalid("not_a_pdf", "signed_pdf must be a PDF file (base64).").With("signed_pdf", "")

// RecordConsentHandler records proxy consents.
type RecordConsentHandler struct {
	Streams   ConsentStreams
	Clock     commands.Clock
	Documents DocumentStore
}

// Handle validates the consent and appends the consent's first event with
// its signed PDF in one transaction: a refused or failed append leaves no
// PDF, and a PDF that fails to store leaves no event. A consent ID already
// recorded (by any store) is refused before anything is sealed, and one
// recorded by a racing store in between makes the append, and so the PDF's
// row, fail with a version conflict.
func (h RecordConsentHandler) Handle(ctx context.Context, cmd RecordConsent) (es.AppendResult, error) {
	if len(cmd.SignedPDF) > 0 && !bytes.HasPrefix(cmd.SignedPDF, []byte("%PDF-")) {
		return es.AppendResult{}, ErrNotAPDF
	}
	c := application.NewProxyConsent()
	v, err := h.Streams.Load(ctx, ConsentStream(cmd.Consent.ConsentID), func(e domain.Event) { c.Apply(e) })
	if err != nil {
		return es.AppendResult{}, err
	}
	now := h.Clock.Now()
	if _, err := c.Record(cmd.Consent, now); err != nil {
		return es.AppendResult{}, err
	}
	if len(cmd.SignedPDF) == 0 {
		evs, err := c.Record(cmd.Consent, now)
		if err != nil {
			return es.AppendResult{}, err
		}
		return h.Streams.Append(ctx, ConsentStream(cmd.Consent.ConsentID), v, evs...)
	}
	ref, write, err := h.Documents.ConsentPDFWrite(ctx, cmd.Consent.ConsentID, cmd.SignedPDF)
	if err != nil {
		return es.AppendResult{}, err
	}
	cmd.Consent.SignedPDF = ref
	evs, err := c.Record(cmd.Consent, now)
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.AppendInTx(ctx, ConsentStream(cmd.Consent.ConsentID), v, write, evs...)
}
