package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// FileByProxy is a store filing an application under a proxy consent.
type FileByProxy struct {
	ConsentID   string
	StoreID     string
	StaffID     string
	Details     application.Details
	Acceptances application.Acceptances
	Units       int
}

// FileByProxyHandler files proxy applications. No mail goes to the
// customer: the store hands over the passcode and later the printed certificate.
type FileByProxyHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	Hasher  Hasher
}

// Handle consumes one unit of the consent (optimistic concurrency on the
// consent stream) and appends the application, in one transaction.
func (h FileByProxyHandler) Handle(ctx context.Context, cmd FileByProxy) (Applied, error) {
	var evs []domain.Event
	c := application.NewProxyConsent()
	cv, err := h.Streams.Load(ctx, ConsentStream(cmd.ConsentID), func(e domain.Event) { c.Apply(e) })
	if err != nil {
		return Applied{}, err
	}
	if cv == 0 || c.StoreID() != cmd.StoreID {
		// Another store's consent is not revealed: it answers as one that
		// does not exist.
		return Applied{}, application.ErrConsentNotFound.With("consent_id", "")
	}
	id, err := application.ParseID(NewApplicationID(ctx))
	if err != nil {
		return Applied{}, err
	}
	now := h.Clock.Now()
	use, err := c.Use(application.UseConsent{ApplicationID: id, StoreID: cmd.StoreID, Applicant: cmd.Details.Applicant}, now)
	if err != nil {
		return Applied{}, err
	}
	unit := c.UnitsUsed() + 1
	file := application.FileByProxy{ID: id, Details: cmd.Details, Acceptances: cmd.Acceptances, Units: cmd.Units,
		PasscodeHash: "x", StoreID: cmd.StoreID, StaffID: cmd.StaffID, ConsentID: cmd.ConsentID, ConsentUnit: unit}
	if _, err := application.New().FileByProxy(file, now); err != nil {
		return Applied{}, err
	}
	pass := NewPasscode(ctx)
	qr, _ := application.NewQR(id, pass)
	if file.PasscodeHash, err = h.Hasher.HashSecret(pass); err != nil {
		return Applied{}, err
	}
	if evs, err = application.New().FileByProxy(file, now); err != nil {
		return Applied{}, err
	}
	// The unit and the application are written together or not at all.
	res, err := h.Streams.AppendMany(ctx,
		commands.StreamEvents{Stream: ConsentStream(cmd.ConsentID), Expected: cv, Events: use},
		commands.StreamEvents{Stream: ApplicationStream(id.String()), Expected: 0, Events: evs})
	if err != nil {
		return Applied{}, err
	}
	return Applied{ApplicationID: id.String(), Passcode: pass, QR: qr.Encode(), Result: res[1]}, nil
}
