package card

import (
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Stable event type names stored on disk. Never rename.
const (
	EventIssued                = "card.issued"
	EventRenewed               = "card.renewed"
	EventInvalidated           = "card.invalidated"
	EventCancelled             = "card.cancelled"
	EventRenewalNoticeRecorded = "card.renewal_notice_recorded"
)

// EventTypes lists every event type of this package that is stored (the
// card stream and the vehicle claim stream); a test in cmd/gantry/app checks
// it against what the codec can decode.
func EventTypes() []string {
	return []string{EventIssued, EventRenewed, EventInvalidated, EventCancelled, EventRenewalNoticeRecorded,
		EventVehicleClaimed, EventVehicleReleased}
}

// Issued starts a card's stream: new issue (Reason new, Previous zero),
// renewal (Reason renewal) or reissue (Reason lost, card_type_change,
// magnetic_fault or damage), Previous naming the card it replaces. The card
// is in use from IssuedOn. It carries everything the printer EDI record needs
// (see PrinterRecord).
type Issued struct {
	Card          CardNumber             `json:"card"`
	Contract      contract.Number        `json:"contract"`
	AlphaName     contract.AlphaName     `json:"alpha_name"`
	Vehicle       contract.VehicleNumber `json:"vehicle"`
	Type          Type                   `json:"card_type"`
	Expiry        money.YearMonth        `json:"expiry"`
	FirstIssuedOn domain.Date            `json:"first_issued_on"`
	IssuedOn      domain.Date            `json:"issued_on"`
	Reason        IssueReason            `json:"reason"`
	Previous      CardNumber             `json:"previous,omitzero"`
}

// Renewed: the card was replaced by its renewal Successor (利用中 → 更新済み).
type Renewed struct {
	Card      CardNumber  `json:"card"`
	Successor CardNumber  `json:"successor"`
	RenewedOn domain.Date `json:"renewed_on"`
}

// Invalidated: the card was replaced by a reissue Successor (利用中 → 無効)
// for Reason.
type Invalidated struct {
	Card          CardNumber  `json:"card"`
	Successor     CardNumber  `json:"successor"`
	Reason        IssueReason `json:"reason"`
	InvalidatedOn domain.Date `json:"invalidated_on"`
}

// Cancelled: the card reached the end of its expiry Month still in use and
// was not renewed (利用中 → 解約). It was valid through CancelledOn, the last
// day of Month.
type Cancelled struct {
	Card        CardNumber      `json:"card"`
	Month       money.YearMonth `json:"month"`
	CancelledOn domain.Date     `json:"cancelled_on"`
}

// RenewalNoticeRecorded: the renewal notice (有効期限更新の案内書) for the
// card's Expiry was sent on RecordedOn. Recorded once per card.
type RenewalNoticeRecorded struct {
	Card       CardNumber      `json:"card"`
	Expiry     money.YearMonth `json:"expiry"`
	RecordedOn domain.Date     `json:"recorded_on"`
}

func (Issued) EventType() string                { return EventIssued }
func (Renewed) EventType() string               { return EventRenewed }
func (Invalidated) EventType() string           { return EventInvalidated }
func (Cancelled) EventType() string             { return EventCancelled }
func (RenewalNoticeRecorded) EventType() string { return EventRenewalNoticeRecorded }
