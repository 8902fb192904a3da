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
	es.Register[billing.InvoiceIssued](reg, 2)
	reg.Upcast(billing.EventInvoiceIssued, 1, UpcastInvoiceIssuedV1)
	es.Register[billing.AdjustmentIssued](reg, 2)
	reg.Upcast(billing.EventAdjustmentIssued, 1, UpcastAdjustmentIssuedV1)
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

// UpcastInvoiceIssuedV1 adds the commitment to its lines (billing.Commit)
// that schema v1 of invoice.issued lacked. A v1 event embeds its lines
// (statement.lines); they stay in the upcast event, where billing.Hydrate
// checks them against the commitment instead of reading the line store.
func UpcastInvoiceIssuedV1(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	var st struct {
		Lines []billing.Line `json:"lines"`
	}
	if err := json.Unmarshal(m["statement"], &st); err != nil {
		return nil, err
	}
	if st.Lines == nil {
		st.Lines = []billing.Line{}
	}
	c, err := json.Marshal(billing.Commit(st.Lines))
	if err != nil {
		return nil, err
	}
	m["lines"] = c
	return json.Marshal(m)
}

// UpcastAdjustmentIssuedV1 adds the commitments to the removed and added
// lines that schema v1 of invoice.adjustment_issued lacked; its embedded
// lines stay (see UpcastInvoiceIssuedV1).
func UpcastAdjustmentIssuedV1(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	for _, part := range []string{"removed", "added"} {
		lines := []billing.Line{}
		if raw, ok := m[part]; ok {
			if err := json.Unmarshal(raw, &lines); err != nil {
				return nil, err
			}
		}
		if lines == nil {
			lines = []billing.Line{}
		}
		raw, err := json.Marshal(lines)
		if err != nil {
			return nil, err
		}
		c, err := json.Marshal(billing.Commit(lines))
		if err != nil {
			return nil, err
		}
		m[part], m[part+"_lines"] = raw, c
	}
	return json.Marshal(m)
}
