package card

import (
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Snapshot is a read-only view of a card's state (for auditors' as-of reads).
type Snapshot struct {
	Card            CardNumber             `json:"card"`
	Contract        contract.Number        `json:"contract"`
	AlphaName       contract.AlphaName     `json:"alpha_name"`
	Vehicle         contract.VehicleNumber `json:"vehicle"`
	Type            Type                   `json:"type"`
	Expiry          money.YearMonth        `json:"expiry"`
	State           State                  `json:"state"`
	FirstIssuedOn   domain.Date            `json:"first_issued_on,omitzero"`
	IssuedOn        domain.Date            `json:"issued_on,omitzero"`
	Reason          IssueReason            `json:"reason"`
	Previous        CardNumber             `json:"previous"`
	Successor       CardNumber             `json:"successor"`
	EndedOn         domain.Date            `json:"ended_on,omitzero"`
	RenewalNoticeOn domain.Date            `json:"renewal_notice_on,omitzero"`
}

// Snapshot returns the card's state as a value.
func (c *Card) Snapshot() Snapshot {
	return Snapshot{Card: c.number, Contract: c.contract, AlphaName: c.alphaName, Vehicle: c.vehicle, Type: c.cardType,
		Expiry: c.expiry, State: c.state, FirstIssuedOn: c.firstIssuedOn, IssuedOn: c.issuedOn, Reason: c.reason,
		Previous: c.previous, Successor: c.successor, EndedOn: c.endedOn, RenewalNoticeOn: c.renewalNoticeOn}
}
