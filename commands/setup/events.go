package setup

import (
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// RegisterEvents declares the setup area's stored event types with their
// current schema versions, and the upcasters from older versions (none yet).
// A new schema version of an event is declared here, beside the commands
// that write it: bump the number and add reg.Upcast(type, old, fn) with a
// test that decodes a stored old payload. cmd/gantry/app calls this once.
func RegisterEvents(reg *es.Registry) {
	es.Register[application.Completed](reg, 1)
	es.Register[application.FiledByProxy](reg, 1)
	es.Register[application.PasscodeRejected](reg, 1)
	es.Register[application.ReceptionLocked](reg, 1)
	es.Register[application.ReceptionUnlocked](reg, 1)
	es.Register[application.Received](reg, 1)
	es.Register[application.Expired](reg, 1)
	es.Register[application.RetentionEnded](reg, 1)
	es.Register[application.ConsentRecorded](reg, 1)
	es.Register[application.ConsentUnitUsed](reg, 1)
	es.Register[application.ConsentRetentionEnded](reg, 1)
	es.Register[application.PasscodeSealed](reg, 1)
	es.Register[setup.Started](reg, 1)
	es.Register[setup.VisitorRecorded](reg, 1)
	es.Register[setup.IdentityChecked](reg, 1)
	es.Register[setup.MultipleUnitsAnswered](reg, 1)
	es.Register[setup.VehicleRecorded](reg, 1)
	es.Register[setup.OBURecorded](reg, 1)
	es.Register[setup.CardWritten](reg, 1)
	es.Register[setup.Executed](reg, 1)
	es.Register[setup.CompletionNotified](reg, 1)
	es.Register[certificate.Issued](reg, 1)
	es.Register[certificate.LinkSent](reg, 1)
	es.Register[certificate.LinkReissued](reg, 1)
	es.Register[certificate.Downloaded](reg, 1)
	es.Register[certificate.Printed](reg, 1)
	es.Register[certificate.LinkSecretSealed](reg, 1)
}
