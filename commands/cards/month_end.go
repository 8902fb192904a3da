package cards

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
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
	rows, err := h.Pool.Query(ctx, `SELECT card FROM `+projections.Schema(h.CardsView)+`.cards WHERE state = 'in_use' AND expiry < $1`, current.String())
	if err != nil {
		return 0, err
	}
	var due []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, s)
	}
	rows.Close()
	n := 0
	for _, s := range due {
		num, err := card.ParseCardNumber(s)
		if err != nil {
			return n, err
		}
		var c card.Card
		v, err := h.Streams.Load(ctx, CardStream(num), c.Apply)
		if err != nil {
			return n, err
		}
		evs := c.CancelAtMonthEnd(c.Expiry())
		if len(evs) == 0 {
			continue
		}
		if _, err := h.Streams.Append(ctx, CardStream(num), v, evs...); err != nil {
			if errors.Is(err, es.ErrWrongExpectedVersion) {
				continue // changed meanwhile; the next run looks again
			}
			return n, err
		}
		if err := h.InUse.SetState(ctx, num, card.StateCancelled); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
