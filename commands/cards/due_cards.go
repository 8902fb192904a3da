package cards

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// forEachDueCard runs a scheduled job over the cards a view query names:
// each card is loaded, decide says what it records (nothing: skip), and the
// events are appended at the loaded version. A card that changed meanwhile is
// left for the next run. It returns how many cards recorded something;
// after, when set, runs for each of them.
func forEachDueCard(ctx context.Context, pool *pgxpool.Pool, streams commands.Streams, query string, args []any,
	decide func(c *card.Card) ([]domain.Event, error), after func(card.CardNumber) error) (int, error) {
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	due, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range due {
		num, err := card.ParseCardNumber(s)
		if err != nil {
			return n, err
		}
		var c card.Card
		v, err := streams.Load(ctx, CardStream(num), c.Apply)
		if err != nil {
			return n, err
		}
		evs, err := decide(&c)
		if err != nil {
			return n, err
		}
		if len(evs) == 0 {
			continue
		}
		if _, err := streams.Append(ctx, CardStream(num), v, evs...); err != nil {
			if errors.Is(err, es.ErrWrongExpectedVersion) {
				continue // changed meanwhile; the next run looks again
			}
			return n, err
		}
		if after != nil {
			if err := after(num); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}
