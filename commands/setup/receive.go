package setup

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/setup"
)

// Receive is a store reading an application on the tablet (step 5) by ID and
// passcode or by the QR payload; it starts the setup.
type Receive struct {
	Credentials
	StoreID string
	StaffID string
}

// Received tells the tablet which setup to continue.
type Received struct {
	ApplicationID string
	SetupID       string
	SetupVersion  int64
	Result        es.AppendResult
}

// ReceiveHandler receives applications.
type ReceiveHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	Hasher  application.PasscodeVerifier
}

// Handle appends the reception with the application's loaded version as the
// expected one, so of two tablets receiving at once exactly one wins (the
// other gets a version conflict, 409). A wrong passcode appends the
// rejection (and the lock on the fifth) and then returns the error.
func (h ReceiveHandler) Handle(ctx context.Context, cmd Receive) (Received, error) {
	id, pass, err := cmd.resolve()
	if err != nil {
		return Received{}, err
	}
	a := application.New()
	stream := ApplicationStream(id.String())
	v, err := h.Streams.Load(ctx, stream, a.Apply)
	if err != nil {
		return Received{}, err
	}
	if v == 0 {
		return Received{}, application.ErrNotFound
	}
	now := h.Clock.Now()
	evs, derr := a.Receive(application.Receive{StoreID: cmd.StoreID, StaffID: cmd.StaffID, Passcode: pass, Verifier: h.Hasher}, now)
	if len(evs) > 0 {
		if _, err := h.Streams.Append(ctx, stream, v, evs...); err != nil {
			return Received{}, err
		}
	}
	if derr != nil {
		return Received{}, derr
	}
	sid := NewSetupID()
	s := setup.New()
	sevs, err := s.Start(setup.Start{SetupID: sid, ApplicationID: id.String(), StoreID: cmd.StoreID, StaffID: cmd.StaffID}, now)
	if err != nil {
		return Received{}, err
	}
	res, err := h.Streams.Append(ctx, SetupStream(sid), 0, sevs...)
	if err != nil {
		return Received{}, err
	}
	return Received{ApplicationID: id.String(), SetupID: sid, SetupVersion: res.LastVersion, Result: res}, nil
}

// loadSetup loads a setup and checks the caller's store and the version the
// caller expects (-1: any).
func loadSetup(ctx context.Context, st EventStreams, id, store string, expected int64) (*setup.Setup, int64, error) {
	s, v, err := Reads{Streams: st}.Setup(ctx, id, store)
	if errors.Is(err, setup.ErrNotStarted) {
		// Another store's setup is not revealed.
		return nil, 0, setup.ErrNotStarted.With("setup_id", "No setup with this ID at your store.")
	}
	if err != nil {
		return nil, 0, err
	}
	if err := commands.CheckIfMatch(SetupStream(id), expected, v); err != nil {
		return nil, 0, err
	}
	return s, v, nil
}
