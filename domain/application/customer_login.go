package application

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// CustomerLogin is a customer logging in with the application ID and
// passcode (typed or from the QR code).
type CustomerLogin struct {
	Passcode string
	Verifier PasscodeVerifier
}

// ErrCustomerLoginRefused is every refused customer login: unknown ID, data
// gone, wrong passcode or a locked login all look the same, so the answer
// never tells whether an application ID exists.
var ErrCustomerLoginRefused = domain.Invalid("bad_credentials", "The application ID or passcode is wrong. After 5 wrong passcodes the login is locked; the store's help desk can unlock it.")

// LogIn decides a customer login: the same lock rule as reception, counted
// on its own lock. A wrong passcode returns PasscodeRejected (CustomerLogin)
// and, on the MaxPasscodeFailures-th wrong passcode since the last unlock or
// reception, ReceptionLocked for the customer login — with
// ErrCustomerLoginRefused; the command layer appends them and returns the
// error. A locked login refuses the right passcode too. A successful login
// records nothing, so it does not reset the count. The customer login's lock
// never locks a store's reception, nor a store's lock the login.
//
// The verifier runs in every case (against an empty hash when there is no
// passcode to compare), so a login costs the same slow hash whether or not
// the application exists.
func (a *Application) LogIn(cmd CustomerLogin, now time.Time) ([]domain.Event, error) {
	if cmd.Verifier == nil {
		return nil, ErrMissingVerifier
	}
	right := cmd.Verifier.Verify(a.passcodeHash, cmd.Passcode) && validPasscode(cmd.Passcode)
	if a.live() != nil || a.passcodeHash == "" {
		return nil, ErrCustomerLoginRefused
	}
	if a.LockedFor("") {
		return nil, ErrCustomerLoginRefused
	}
	if right {
		return nil, nil
	}
	n := a.failures[""] + 1
	events := []domain.Event{PasscodeRejected{ApplicationID: a.id, CustomerLogin: true, ConsecutiveFailures: n, At: now}}
	if n >= MaxPasscodeFailures {
		events = append(events, ReceptionLocked{ApplicationID: a.id, CustomerLogin: true, At: now})
	}
	return events, ErrCustomerLoginRefused
}

func lockKey(store string, customer bool) string {
	if customer {
		return ""
	}
	return store
}
