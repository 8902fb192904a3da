package setup

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/domain/application"
)

// CustomerLogin is a customer proving their application to get a token.
type CustomerLogin struct{ Credentials }

// CustomerLoginHandler checks customer credentials. It appends nothing:
// wrong passcodes at login do not count towards the reception lock.
type CustomerLoginHandler struct {
	Streams EventStreams
	Hasher  application.PasscodeVerifier
}

// ErrBadCustomerCredentials: unknown or ended application, or wrong
// passcode (never says which).
var ErrBadCustomerCredentials = errors.New("setup: application ID or passcode is wrong")

// Handle returns the application ID the credentials prove. Unreadable
// credentials are the domain's validation error; an unknown, expired or
// ended application and a wrong passcode are ErrBadCustomerCredentials.
func (h CustomerLoginHandler) Handle(ctx context.Context, cmd CustomerLogin) (string, error) {
	id, pass, err := cmd.resolve()
	if err != nil {
		return "", err
	}
	a := application.New()
	if _, err := h.Streams.Load(ctx, ApplicationStream(id.String()), a.Apply); err != nil {
		return "", err
	}
	switch a.Status() {
	case application.StatusNone, application.StatusExpired, application.StatusRetentionEnded:
		return "", ErrBadCustomerCredentials
	}
	if !h.Hasher.Verify(a.PasscodeHash(), pass) {
		return "", ErrBadCustomerCredentials
	}
	return id.String(), nil
}
