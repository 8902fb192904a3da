package cards

import (
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// CardRowOf is the row of the cards view for a card aggregate, as the
// projector would write it: what a card command answers from its own
// decision, at once, without waiting for the view.
func CardRowOf(c *card.Card) CardRow {
	r := CardRow{
		Card: c.Number().String(), Contract: c.Contract().String(), Vehicle: c.Vehicle().String(), Type: c.Type().String(),
		Expiry: c.Expiry().String(), State: string(c.State()), StateLabel: c.State().Label(),
		FirstIssuedOn: c.FirstIssuedOn().String(), IssuedOn: c.IssuedOn().String(), Reason: string(c.Reason()),
		Previous: c.Previous().String(), Successor: c.Successor().String(), Version: int64(c.Version()),
	}
	if d := c.EndedOn(); !d.IsZero() {
		s := d.String()
		r.EndedOn = &s
	}
	if d := c.RenewalNoticeOn(); !d.IsZero() {
		s := d.String()
		r.RenewalNoticeOn = &s
	}
	return r
}

// ContractRowOf is the row of the contracts view for a concluded contract
// (see CardRowOf).
func ContractRowOf(c *contract.Contract) ContractRow {
	return ContractRow{
		Contract: c.Number().String(), CustomerName: c.CustomerName(), AlphaName: c.AlphaName().String(),
		LeaseStart: c.Lease().Start().String(), LeaseEnd: c.Lease().End().String(), BusinessDays: c.BusinessDays(),
		ConcludedOn: c.ConcludedOn().String(),
	}
}
