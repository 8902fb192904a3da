package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
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

// RecordConsentHandler records proxy consents.
type RecordConsentHandler struct {
	Streams   EventStreams
	Clock     commands.Clock
	Documents DocumentStore
}

// Handle validates the consent, stores the PDF (content-addressed: a retry
// stores the same row), then appends the consent's first event.
func (h RecordConsentHandler) Handle(ctx context.Context, cmd RecordConsent) (es.AppendResult, error) {
	c := application.NewProxyConsent()
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
	return h.Streams.Append(ctx, ConsentStream(cmd.Consent.ConsentID), 0, evs...)
}
