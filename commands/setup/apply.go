package setup

import (
	"context"
	"fmt"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
)

// Apply is a customer's web application.
type Apply struct {
	Details     application.Details
	Acceptances application.Acceptances
	Units       int
	// Store is the setup store named by the QR link the customer applied
	// from ("" for none); it must be an existing store's code.
	Store string
}

// Stores says whether a setup store exists
// (adapters/postgres.StaffAccounts).
type Stores interface {
	StoreExists(ctx context.Context, storeID string) (bool, error)
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
	// Stores checks Apply.Store; needed only when a store is given.
	Stores Stores
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
	if _, err := application.New().Complete(application.Complete{ID: id, Details: cmd.Details, Acceptances: cmd.Acceptances, Units: cmd.Units, PasscodeHash: "x", StoreID: cmd.Store}, now); err != nil {
		return Applied{}, err
	}
	if err := h.checkStore(ctx, cmd.Store); err != nil {
		return Applied{}, err
	}
	hash, err := h.Hasher.HashSecret(pass)
	if err != nil {
		return Applied{}, err
	}
	evs, err := application.New().Complete(application.Complete{ID: id, Details: cmd.Details, Acceptances: cmd.Acceptances, Units: cmd.Units, PasscodeHash: hash, StoreID: cmd.Store}, now)
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

// checkStore refuses a store code that names no setup store.
func (h ApplyHandler) checkStore(ctx context.Context, store string) error {
	if store == "" {
		return nil
	}
	if h.Stores == nil {
		return fmt.Errorf("setup: ApplyHandler has no Stores to check store %q", store)
	}
	ok, err := h.Stores.StoreExists(ctx, store)
	if err != nil {
		return err
	}
	if !ok {
		return application.ErrUnknownStore.With("store", "")
	}
	return nil
}
