package application

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// EventPasscodeSealed is the stored name of PasscodeSealed (never change it).
const EventPasscodeSealed = "application.passcode_sealed"

// PasscodeSealed carries the clear passcode of a web application, sealed as
// personal data of the application, only so that the completion mail can
// be sent from the event log (at least once, after a crash too). Shredding
// the application erases it with the rest. Proxy filings do not have one:
// no mail goes to the customer. The aggregate ignores it.
type PasscodeSealed struct {
	ApplicationID ID                      `json:"application_id"`
	Passcode      domain.Personal[string] `json:"passcode"`
	At            time.Time               `json:"at"`
}

func (PasscodeSealed) EventType() string { return EventPasscodeSealed }

// SealPasscode returns the event that keeps the passcode for the mail.
func SealPasscode(id ID, passcode string, now time.Time) PasscodeSealed {
	return PasscodeSealed{ApplicationID: id, Passcode: domain.Seal(id.String(), passcode), At: now}
}
