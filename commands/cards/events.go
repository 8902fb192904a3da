package cards

import (
	"encoding/json"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// RegisterEvents declares every event type the card business stores, at
// its current schema version, with the upcasters from older versions. It is
// the one place to change when an event's shape changes: bump the version
// here and add the upcaster beside it. The composition root (cmd/) calls
// it; a test there checks that the domain packages' EventTypes() and the
// registry agree.
func RegisterEvents(reg *es.Registry) {
	es.Register[contract.Concluded](reg, 2)
	reg.Upcast(contract.EventConcluded, 1, UpcastConcludedV1)
	es.Register[contract.BusinessDaysChanged](reg, 1)
	es.Register[card.Issued](reg, 1)
	es.Register[card.Renewed](reg, 1)
	es.Register[card.Invalidated](reg, 1)
	es.Register[card.Cancelled](reg, 1)
	es.Register[card.RenewalNoticeRecorded](reg, 1)
	es.Register[card.VehicleClaimed](reg, 1)
	es.Register[card.VehicleReleased](reg, 1)
	es.Register[billing.InvoiceIssued](reg, 1)
	es.Register[billing.AdjustmentIssued](reg, 1)
	es.Register[billing.UsageFileImported](reg, 1)
}

// UpcastConcludedV1 fills the business calendar that schema v1 of
// contract.concluded lacked with the standard one (Saturday, Sunday and
// national holidays off).
func UpcastConcludedV1(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if _, ok := m["business_days"]; !ok {
		cal, err := json.Marshal(contract.StandardBusinessCalendar())
		if err != nil {
			return nil, err
		}
		m["business_days"] = cal
	}
	return json.Marshal(m)
}
