package certificate

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// EventLinkSecretSealed is the stored name of LinkSecretSealed (never change it).
const EventLinkSecretSealed = "certificate.link_secret_sealed"

// LinkSecretSealed carries the raw secret of a download link, sealed as
// personal data of the application (Subject = application ID), so that the
// mail with the link can be sent from the event log. LinkSent/LinkReissued
// carry only its hash. The aggregate ignores it.
type LinkSecretSealed struct {
	Number        string                  `json:"number"`
	ApplicationID string                  `json:"application_id"`
	Secret        domain.Personal[string] `json:"secret"`
	At            time.Time               `json:"at"`
}

func (LinkSecretSealed) EventType() string { return EventLinkSecretSealed }

// SealLinkSecret returns the event that keeps a link secret for the mail.
func SealLinkSecret(number, applicationID, secret string, now time.Time) LinkSecretSealed {
	return LinkSecretSealed{Number: number, ApplicationID: applicationID, Secret: domain.Seal(applicationID, secret), At: now}
}
