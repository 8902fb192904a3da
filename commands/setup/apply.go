package setup

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
)

// Apply is a customer's web application.
type Apply struct {
	Details     application.Details
	Acceptances application.Acceptances
	Units       int
}

// Applied is what the customer is told (and mailed): the clear passcode
// exists only here and sealed in the event log.
type Applied struct {
	ApplicationID string
	Passcode      string
	QR            string
	Result        es.AppendResult
}

// ApplyHandler completes web applications.
type ApplyHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	Hasher  Hasher
}

// Handle validates and records the application with a new ID and passcode.
func (h ApplyHandler) Handle(ctx context.Context, cmd Apply) (Applied, error) {
	id, err := application.ParseID(NewApplicationID(ctx))
	if err != nil {
		return Applied{}, err
	}
	pass := NewPasscode(ctx)
	qr, err := application.NewQR(id, pass)
	if err != nil {
		return Applied{}, err
	}
	now := h.Clock.Now()
	// Validate before paying for bcrypt.
	if _, err := application.New().Complete(application.Complete{ID: id, Details: cmd.Details, Acceptances: cmd.Acceptances, Units: cmd.Units, PasscodeHash: "x"}, now); err != nil {
		return Applied{}, err
	}
	hash, err := h.Hasher.HashSecret(pass)
	if err != nil {
		return Applied{}, err
	}
	evs, err := application.New().Complete(application.Complete{ID: id, Details: cmd.Details, Acceptances: cmd.Acceptances, Units: cmd.Units, PasscodeHash: hash}, now)
	if err != nil {
		return Applied{}, err
	}
	evs = append(evs, application.SealPasscode(id, pass, now))
	res, err := h.Streams.Append(ctx, ApplicationStream(id.String()), 0, evs...)
	if err != nil {
		return Applied{}, err
	}
	return Applied{ApplicationID: id.String(), Passcode: pass, QR: qr.Encode(), Result: res}, nil
}
