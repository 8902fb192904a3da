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
type DocumentStore interface {
	PutConsentPDF(ctx context.Context, consentID string, pdf []byte) (ref string, err error)
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
	Streams   EventStreams
	Clock     commands.Clock
	Documents DocumentStore
}

// Handle validates the consent, stores the PDF (content-addressed: a retry
// stores the same row), then appends the consent's first event. A consent ID
// already recorded (by any store) is refused before the PDF is stored, so
// nothing lands under another store's consent.
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
	if len(cmd.SignedPDF) > 0 {
		ref, err := h.Documents.PutConsentPDF(ctx, cmd.Consent.ConsentID, cmd.SignedPDF)
		if err != nil {
			return es.AppendResult{}, err
		}
		cmd.Consent.SignedPDF = ref
	}
	evs, err := c.Record(cmd.Consent, now)
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, ConsentStream(cmd.Consent.ConsentID), v, evs...)
}
