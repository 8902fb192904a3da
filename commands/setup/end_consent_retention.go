package setup

import (
	"context"
	"time"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// DocumentDeleter deletes a consent's signed PDF.
type DocumentDeleter interface {
	DeleteConsentPDF(ctx context.Context, consentID string) error
}

// EndConsentRetention ends a proxy consent's 5 years: event, shred, PDF gone.
type EndConsentRetention struct{ ConsentID string }

// EndConsentRetentionHandler runs EndConsentRetention; safe to run twice.
type EndConsentRetentionHandler struct {
	Streams   EventStreams
	Clock     commands.Clock
	Shredder  Shredder
	Documents DocumentDeleter
}

// Handle appends ConsentRetentionEnded, shreds the consent subject and
// deletes the PDF.
func (h EndConsentRetentionHandler) Handle(ctx context.Context, cmd EndConsentRetention) error {
	c := application.NewProxyConsent()
	v, err := h.Streams.Load(ctx, ConsentStream(cmd.ConsentID), func(e domain.Event) { c.Apply(e) })
	if err != nil {
		return err
	}
	if v == 0 {
		return application.ErrConsentNotFound
	}
	evs, err := c.EndRetention(h.Clock.Now())
	if err != nil {
		return err
	}
	if _, err := h.Streams.Append(ctx, ConsentStream(cmd.ConsentID), v, evs...); err != nil {
		return err
	}
	if err := h.Shredder.Shred(ctx, cmd.ConsentID); err != nil {
		return err
	}
	return h.Documents.DeleteConsentPDF(ctx, cmd.ConsentID)
}

// ConsentsRetainedFinder finds the live consents whose 5 years end at or
// before t (projections/setup.Reader).
type ConsentsRetainedFinder interface {
	ConsentsRetainedUntil(ctx context.Context, t time.Time) ([]string, error)
}

// EndConsentRetentionDue is the consent-retention job; the domain decides
// on each candidate.
func EndConsentRetentionDue(candidates ConsentsRetainedFinder, end EndConsentRetentionHandler) DueHandler {
	return DueHandler{Clock: end.Clock, Find: candidates.ConsentsRetainedUntil,
		Run: func(ctx context.Context, id string) error { return end.Handle(ctx, EndConsentRetention{ConsentID: id}) }}
}
