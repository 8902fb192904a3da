package card

import (
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
)

// Stable event type names of the vehicle claim. Never rename.
const (
	EventVehicleClaimed  = "card.vehicle_claimed"
	EventVehicleReleased = "card.vehicle_released"
)

// VehicleClaimed: Card is now the vehicle's one card in use. Previous is the
// card it takes over from (renewal or reissue); zero for a new issue.
type VehicleClaimed struct {
	Vehicle  contract.VehicleNumber `json:"vehicle"`
	Card     CardNumber             `json:"card"`
	Previous CardNumber             `json:"previous,omitzero"`
}

// VehicleReleased: Card is no longer in use (cancelled at month end); the
// vehicle has no card in use.
type VehicleReleased struct {
	Vehicle contract.VehicleNumber `json:"vehicle"`
	Card    CardNumber             `json:"card"`
}

func (VehicleClaimed) EventType() string  { return EventVehicleClaimed }
func (VehicleReleased) EventType() string { return EventVehicleReleased }

// VehicleClaim is the "one card in use per vehicle" rule as a tiny aggregate
// with its own stream per vehicle (commands/cards.VehicleStream). A card
// issue, renewal or reissue appends to it at the version it loaded, in the
// same event-store transaction as the card events, so of two concurrent
// decisions for one vehicle exactly one commits; the other fails on the
// expected version and nothing of it is written.
type VehicleClaim struct {
	inUse CardNumber
}

// InUse is the vehicle's card in use (zero when none).
func (v *VehicleClaim) InUse() CardNumber { return v.inUse }

// Claim puts card in use for vehicle as a new issue. ErrCardInUse when the
// vehicle already has a card in use.
func (v *VehicleClaim) Claim(vehicle contract.VehicleNumber, card CardNumber) ([]domain.Event, error) {
	if !v.inUse.IsZero() {
		return nil, ErrCardInUse.Withf("vehicle", "Vehicle %s already has card %s in use; reissue or renew that card instead of issuing a new one.", vehicle, v.inUse)
	}
	return []domain.Event{VehicleClaimed{Vehicle: vehicle, Card: card}}, nil
}

// Succeed hands the vehicle over from the card in use, old, to its successor.
// ErrCardNotInUse when old is not the vehicle's card in use.
func (v *VehicleClaim) Succeed(vehicle contract.VehicleNumber, old, successor CardNumber) ([]domain.Event, error) {
	if v.inUse != old {
		return nil, ErrCardNotInUse.Withf("card", "Card %s is not the card in use for vehicle %s; act on the card that replaced it.", old, vehicle)
	}
	return []domain.Event{VehicleClaimed{Vehicle: vehicle, Card: successor, Previous: old}}, nil
}

// Release ends card's claim on the vehicle; no events when card is not the
// vehicle's card in use (running twice changes nothing).
func (v *VehicleClaim) Release(vehicle contract.VehicleNumber, card CardNumber) []domain.Event {
	if v.inUse.IsZero() || v.inUse != card {
		return nil
	}
	return []domain.Event{VehicleReleased{Vehicle: vehicle, Card: card}}
}

// Apply evolves the claim; other events are ignored. It never fails.
func (v *VehicleClaim) Apply(e domain.Event) {
	switch e := e.(type) {
	case VehicleClaimed:
		v.inUse = e.Card
	case VehicleReleased:
		if v.inUse == e.Card {
			v.inUse = CardNumber{}
		}
	}
}
