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
	return forEachDueCard(ctx, h.Pool, h.Streams, `SELECT card FROM `+projections.Schema(h.CardsView)+`.cards
		WHERE state = 'in_use' AND renewal_notice_on IS NULL AND expiry <= $1`, []any{horizon.String()},
		func(c *card.Card) ([]domain.Event, error) {
			if !c.RenewalNoticeDue(today) {
				return nil, nil
			}
			return c.RecordRenewalNotice(today)
		}, nil)
}
