package setup

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
)

// CustomerLogin is a customer's login with the application ID and passcode
// (the handler has already taken them out of the QR payload if need be).
type CustomerLogin struct {
	ApplicationID string
	Passcode      string
}

// CustomerLoginHandler checks customer logins (application.LogIn): the
// passcode lock and constant work whether or not the ID exists.
type CustomerLoginHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	Hasher  Hasher
	// dummy is a hash of the configured cost that no passcode matches: an
	// unknown ID costs the same bcrypt run as a known one.
	dummy string
}

// NewCustomerLoginHandler returns the handler with its dummy hash made.
func NewCustomerLoginHandler(st EventStreams, clock commands.Clock, h Hasher) (*CustomerLoginHandler, error) {
	d, err := h.Hash(NewLinkSecret())
	if err != nil {
		return nil, err
	}
	return &CustomerLoginHandler{Streams: st, Clock: clock, Hasher: h, dummy: d}, nil
}

// Handle answers the application ID on success; every refusal is
// application.ErrCustomerLoginRefused. A wrong passcode for an existing
// application appends the rejection (and the lock on the fifth) first; when
// concurrent wrong attempts race, each is counted (the decision is made
// again on the new version, without hashing again).
func (h *CustomerLoginHandler) Handle(ctx context.Context, cmd CustomerLogin) (string, error) {
	id, idErr := application.ParseID(cmd.ApplicationID)
	verify := &constantCost{h: h}
	for attempt := 0; ; attempt++ {
		a := application.New()
		var v int64
		if idErr == nil {
			var err error
			if v, err = h.Streams.Load(ctx, ApplicationStream(id.String()), a.Apply); err != nil {
				return "", err
			}
		}
		evs, derr := a.LogIn(application.CustomerLogin{Passcode: cmd.Passcode, Verifier: verify}, h.Clock.Now())
		if len(evs) > 0 {
			_, err := h.Streams.Append(ctx, ApplicationStream(id.String()), v, evs...)
			var wv *es.WrongVersionError
			if errors.As(err, &wv) && attempt < 20 {
				continue
			}
			if err != nil {
				return "", err
			}
		}
		if derr != nil {
			return "", derr
		}
		return id.String(), nil
	}
}

// constantCost verifies against the dummy hash when there is no real one,
// and remembers its answer (a retried decision does not hash again).
type constantCost struct {
	h            *CustomerLoginHandler
	done, answer bool
}

func (c *constantCost) Verify(hash, attempt string) bool {
	if c.done {
		return c.answer
	}
	c.done = true
	if hash == "" {
		c.h.Hasher.Verify(c.h.dummy, attempt)
		return false
	}
	c.answer = c.h.Hasher.Verify(hash, attempt)
	return c.answer
}
