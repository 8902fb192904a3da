package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/money"
)

// RenewalNoticesHandler is the renewal notice job: for every card in use
// whose notice is due (from the 1st of the month two months before expiry)
// and not yet recorded, it records RenewalNoticeRecorded; the mail goes out
// from the bus handler on that event. Once per card, so re-running is safe.
type RenewalNoticesHandler struct {
	Streams EventStreams
	Due     DueCards
	Clock   commands.Clock
}

// Handle returns how many notices it recorded.
func (h RenewalNoticesHandler) Handle(ctx context.Context) (int, error) {
	today := domain.DateOf(h.Clock.Now())
	due, err := h.Due.RenewalNoticeCandidates(ctx, money.YearMonthOf(today).AddMonths(2))
	if err != nil {
		return 0, err
	}
	return forEachDueCard(ctx, h.Streams, due, func(c *card.Card, v int64) ([]commands.StreamEvents, error) {
		if !c.RenewalNoticeDue(today) {
			return nil, nil
		}
		evs, err := c.RecordRenewalNotice(today)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		return []commands.StreamEvents{{Stream: CardStream(c.Number()), Expected: v, Events: evs}}, nil
	})
}
