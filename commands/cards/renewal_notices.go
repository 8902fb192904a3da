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

// RenewalNoticesHandler is the renewal notice job: for every card in use
// whose notice is due (from the 1st of the month two months before expiry)
// and not yet recorded, it records RenewalNoticeRecorded; the mail goes out
// from the bus handler on that event. Once per card, so re-running is safe.
type RenewalNoticesHandler struct {
	Streams   commands.Streams
	Pool      *pgxpool.Pool
	Clock     commands.Clock
	CardsView string
}

// Handle returns how many notices it recorded.
func (h RenewalNoticesHandler) Handle(ctx context.Context) (int, error) {
	today := domain.DateOf(h.Clock.Now())
	horizon := money.YearMonthOf(today).AddMonths(2)
	rows, err := h.Pool.Query(ctx, `SELECT card FROM `+projections.Schema(h.CardsView)+`.cards
		WHERE state = 'in_use' AND renewal_notice_on IS NULL AND expiry <= $1`, horizon.String())
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
		if !c.RenewalNoticeDue(today) {
			continue
		}
		evs, err := c.RecordRenewalNotice(today)
		if err != nil {
			return n, err
		}
		if _, err := h.Streams.Append(ctx, CardStream(num), v, evs...); err != nil {
			if errors.Is(err, es.ErrWrongExpectedVersion) {
				continue
			}
			return n, err
		}
		n += len(evs)
	}
	return n, nil
}
