package cards

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/projections"
)

// MonthEndHandler is the month-end job: every card still in use whose
// expiry month has ended (before the clock's current month) becomes
// cancelled. Running it twice changes nothing (the aggregate returns no
// events for a card no longer in use); a missed month is caught up.
type MonthEndHandler struct {
	Streams   commands.Streams
	Pool      *pgxpool.Pool
	InUse     InUse
	Clock     commands.Clock
	CardsView string // projector name of the card view
}

// Handle returns how many cards it cancelled.
func (h MonthEndHandler) Handle(ctx context.Context) (int, error) {
	current := money.YearMonthOf(domain.DateOf(h.Clock.Now()))
	return forEachDueCard(ctx, h.Pool, h.Streams,
		`SELECT card FROM `+projections.Schema(h.CardsView)+`.cards WHERE state = 'in_use' AND expiry < $1`, []any{current.String()},
		func(c *card.Card) ([]domain.Event, error) { return c.CancelAtMonthEnd(c.Expiry()), nil },
		func(num card.CardNumber) error { return h.InUse.SetState(ctx, num, card.StateCancelled) })
}
