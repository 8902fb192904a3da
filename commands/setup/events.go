package setup

import (
	"encoding/json"
	"fmt"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// RegisterEvents declares the setup area's stored event types with their
// current schema versions, and the upcasters from older versions.
// A new schema version of an event is declared here, beside the commands
// that write it: bump the number and add reg.Upcast(type, old, fn) with a
// test that decodes a stored old payload. cmd/gantry/app calls this once.
func RegisterEvents(reg *es.Registry) {
	es.Register[application.Completed](reg, 2)
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
	es.Register[setup.VehicleRecorded](reg, 2)
	es.Register[setup.OBURecorded](reg, 2)
	es.Register[setup.CardWritten](reg, 1)
	es.Register[setup.Executed](reg, 1)
	es.Register[setup.CompletionNotified](reg, 2)
	es.Register[certificate.Issued](reg, 2)
	es.Register[certificate.LinkSent](reg, 1)
	es.Register[certificate.LinkReissued](reg, 1)
	es.Register[certificate.Downloaded](reg, 1)
	es.Register[certificate.Printed](reg, 1)
	es.Register[certificate.LinkSecretSealed](reg, 1)

	// Version 2 (issue 10): the plate and the OBU management number are
	// personal data, sealed under the application. Version 1 events hold
	// them in plaintext; they are read as personal values that are not
	// erased (a stored event cannot be re-sealed without breaking its hash
	// chain, so the plaintext stays in those old events).
	reg.Upcast(setup.EventVehicleRecorded, 1, wrapPersonal("", "plate"))
	reg.Upcast(setup.EventOBURecorded, 1, wrapPersonal("", "number"))
	reg.Upcast(setup.EventCompletionNotified, 1, wrapPersonal("application_id", "plate", "obu_number"))
	reg.Upcast(certificate.EventIssued, 1, issuedV1)
	// Version 2 (issue 12): application.completed records the store named
	// by the QR link (store_id). A version 1 application named none: the
	// payload is unchanged and reads with an empty store.
	reg.Upcast(application.EventCompleted, 1, func(data json.RawMessage) (json.RawMessage, error) { return data, nil })
}

// wrapPersonal turns plain members of a stored event into
// {"$pii":{"subject":…,"value":…}}, the subject read from the member
// subjectField ("" leaves it empty: the aggregate seals its copies anew
// under the application).
func wrapPersonal(subjectField string, fields ...string) es.Upcaster {
	return func(data json.RawMessage) (json.RawMessage, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		var subject string
		if subjectField != "" {
			if err := json.Unmarshal(m[subjectField], &subject); err != nil {
				return nil, fmt.Errorf("member %s: %w", subjectField, err)
			}
		}
		for _, f := range fields {
			v, ok := m[f]
			if !ok {
				continue
			}
			w, err := json.Marshal(map[string]any{domain.PersonalKey: map[string]any{"subject": subject, "value": v}})
			if err != nil {
				return nil, err
			}
			m[f] = w
		}
		return json.Marshal(m)
	}
}

// issuedV1 moves a version 1 certificate's plate and OBU number out of its
// content into the personal member vehicle.
func issuedV1(data json.RawMessage) (json.RawMessage, error) {
	var e struct {
		Content       map[string]any `json:"content"`
		ApplicationID string         `json:"application_id"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	plate, _ := e.Content["plate"].(string)
	obu, _ := e.Content["obu_number"].(string)
	e.Content["plate"], e.Content["obu_number"] = "", ""
	m["content"] = e.Content
	m["vehicle"] = map[string]any{domain.PersonalKey: map[string]any{"subject": e.ApplicationID,
		"value": certificate.VehicleIDs{Plate: plate, OBUNumber: obu}}}
	return json.Marshal(m)
}
