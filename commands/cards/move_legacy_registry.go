package cards

import (
	"context"
	"errors"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
)

// LegacyRegistry is the retired card_registry table
// (adapters/cardsdb.LegacyRegistry), read once when upgrading.
type LegacyRegistry interface {
	// InUse lists the cards the old registry had in use; present is false
	// once the table is gone (the move is done).
	InUse(ctx context.Context) (cards []card.CardNumber, present bool, err error)
	// Drop removes the table after every claim is in the event store.
	Drop(ctx context.Context) error
}

// MoveLegacyRegistryHandler turns the old registry's in-use cards into
// vehicle claim streams, then drops the registry. The event log decides: a
// card is claimed only when its own stream says it is in use; a vehicle
// whose claim stream already names a card in use is left as it is. Every
// step can be repeated, so a crash midway is cured by running it again
// (the service runs it after migrating, before serving commands).
type MoveLegacyRegistryHandler struct {
	Streams EventStreams
	Legacy  LegacyRegistry
}

// Handle returns how many claims it appended.
func (h MoveLegacyRegistryHandler) Handle(ctx context.Context) (int, error) {
	inUse, present, err := h.Legacy.InUse(ctx)
	if err != nil || !present {
		return 0, err
	}
	n := 0
	for _, num := range inUse {
		var c card.Card
		if _, err := h.Streams.Load(ctx, CardStream(num), c.Apply); err != nil {
			return n, err
		}
		if c.State() != card.StateInUse {
			continue
		}
		var claim card.VehicleClaim
		cv, err := h.Streams.Load(ctx, VehicleStream(c.Vehicle()), claim.Apply)
		if err != nil {
			return n, err
		}
		if !claim.InUse().IsZero() {
			continue
		}
		evs, err := claim.Claim(c.Vehicle(), num)
		if err != nil {
			return n, err
		}
		if _, err := h.Streams.Append(ctx, VehicleStream(c.Vehicle()), cv, evs...); err != nil {
			if errors.Is(err, es.ErrWrongExpectedVersion) {
				continue // claimed meanwhile
			}
			return n, err
		}
		n++
	}
	return n, h.Legacy.Drop(ctx)
}
