package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/money"
)

// MonthEndHandler is the month-end job: every card still in use whose
// expiry month has ended (before the clock's current month) becomes
// cancelled, and its vehicle claim is released in the same transaction.
// Running it twice changes nothing (the aggregate returns no events for a
// card no longer in use); a missed month is caught up.
type MonthEndHandler struct {
	Streams EventStreams
	Due     DueCards
	Clock   commands.Clock
}

// Handle returns how many cards it cancelled.
func (h MonthEndHandler) Handle(ctx context.Context) (int, error) {
	current := money.YearMonthOf(domain.DateOf(h.Clock.Now()))
	due, err := h.Due.ExpiredInUse(ctx, current)
	if err != nil {
		return 0, err
	}
	return forEachDueCard(ctx, h.Streams, due, func(c *card.Card, v int64) ([]commands.StreamEvents, error) {
		if !c.Expiry().Before(current) {
			return nil, nil // the view was stale
		}
		evs := c.CancelAtMonthEnd(c.Expiry())
		if len(evs) == 0 {
			return nil, nil
		}
		var claim card.VehicleClaim
		cv, err := h.Streams.Load(ctx, VehicleStream(c.Vehicle()), claim.Apply)
		if err != nil {
			return nil, err
		}
		return []commands.StreamEvents{
			{Stream: CardStream(c.Number()), Expected: v, Events: evs},
			{Stream: VehicleStream(c.Vehicle()), Expected: cv, Events: claim.Release(c.Vehicle(), c.Number())},
		}, nil
	})
}
