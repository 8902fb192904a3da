package setup

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
)

// CustomerLogin is a customer proving their application to get a token.
type CustomerLogin struct{ Credentials }

// CustomerLoginHandler checks customer credentials with the application's
// passcode lock (application.LogIn): five wrong passcodes lock the customer
// login (not a store's reception) until the operator unlocks it.
type CustomerLoginHandler struct {
	Streams EventStreams
	Clock   commands.Clock
	Hasher  application.PasscodeVerifier
	// DummyHash is a hash that no passcode matches: an unknown
	// application ID costs the same hash as a known one
	// (NewCustomerLoginHandler makes it). A Hasher with a key needs none.
	DummyHash string
}

// NewCustomerLoginHandler returns the handler with its dummy hash made by h.
func NewCustomerLoginHandler(st EventStreams, clock commands.Clock, h Hasher) (CustomerLoginHandler, error) {
	d, err := h.HashSecret(NewLinkSecret(context.Background()))
	if err != nil {
		return CustomerLoginHandler{}, err
	}
	return CustomerLoginHandler{Streams: st, Clock: clock, Hasher: h, DummyHash: d}, nil
}

// ErrBadCustomerCredentials: unknown or ended application, wrong passcode or
// a locked login (never says which).
var ErrBadCustomerCredentials = errors.New("setup: application ID or passcode is wrong")

// Handle returns the application ID the credentials prove. Unreadable
// credentials are the domain's validation error; an unknown, expired or
// ended application, a wrong passcode and a locked login are
// ErrBadCustomerCredentials. A wrong passcode for an existing application
// appends the rejection (and the lock on the fifth) first; when concurrent
// wrong attempts race, each is counted (the decision is made again on the
// new version, without hashing again).
func (h CustomerLoginHandler) Handle(ctx context.Context, cmd CustomerLogin) (string, error) {
	id, pass, err := cmd.resolve()
	if err != nil {
		return "", err
	}
	stream := ApplicationStream(id.String())
	verify := &constantCost{h: h}
	for attempt := 0; ; attempt++ {
		a := application.New()
		v, err := h.Streams.Load(ctx, stream, a.Apply)
		if err != nil {
			return "", err
		}
		evs, derr := a.LogIn(application.CustomerLogin{Passcode: pass, Verifier: verify}, h.Clock.Now())
		if len(evs) > 0 {
			_, err := h.Streams.Append(ctx, stream, v, evs...)
			var wv *es.WrongVersionError
			if errors.As(err, &wv) && attempt < 20 {
				continue
			}
			if err != nil {
				return "", err
			}
		}
		if errors.Is(derr, application.ErrCustomerLoginRefused) {
			return "", ErrBadCustomerCredentials
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
	h            CustomerLoginHandler
	done, answer bool
}

func (c *constantCost) Verify(hash, attempt string) bool {
	if c.done {
		return c.answer
	}
	c.done = true
	if hash == "" {
		// Passcodes have keyed hashes: an unknown application costs one
		// HMAC, as a known one does (the DummyHash otherwise).
		if k, ok := c.h.Hasher.(interface{ VerifyNothing(string) bool }); ok && k.VerifyNothing(attempt) {
			return false
		}
		c.h.Hasher.Verify(c.h.DummyHash, attempt)
		return false
	}
	c.answer = c.h.Hasher.Verify(hash, attempt)
	return c.answer
}
