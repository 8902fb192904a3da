package setup

import (
	"context"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// EndRetention ends a received application's 5 years and shreds it.
type EndRetention struct{ ApplicationID string }

// EndRetentionHandler runs EndRetention; it needs what ExpireHandler needs.
type EndRetentionHandler ExpireHandler

// Handle appends RetentionEnded then shreds the subject.
func (h EndRetentionHandler) Handle(ctx context.Context, cmd EndRetention) error {
	return endApplication(ctx, h.Streams, h.Shredder, cmd.ApplicationID, func(a *application.Application) ([]domain.Event, error) {
		return a.EndRetention(h.Clock.Now())
	})
}

// ReceivedFinder finds the received applications completed at or before t
// (projections/setup.Reader).
type ReceivedFinder interface {
	ReceivedCompletedBy(ctx context.Context, t time.Time) ([]string, error)
}

// EndRetentionDue is the retention job: it ends every received application
// whose 5 years are over. Candidates by completion time; the domain decides
// on each.
func EndRetentionDue(candidates ReceivedFinder, end EndRetentionHandler) DueHandler {
	return DueHandler{Clock: end.Clock, CutOff: application.RetentionDueIfCompletedBy, Find: candidates.ReceivedCompletedBy,
		Run: func(ctx context.Context, id string) error { return end.Handle(ctx, EndRetention{ApplicationID: id}) }}
}
