package setup

import (
	"context"
	"time"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// Expire ends an application nobody received within 60 days, and shreds its
// personal data. Safe to run twice: an expired application gets no new
// event and shredding again is a no-op.
type Expire struct{ ApplicationID string }

// ExpireHandler runs Expire.
type ExpireHandler struct {
	Streams  EventStreams
	Clock    commands.Clock
	Shredder Shredder
}

// Handle appends Expired then shreds the subject.
func (h ExpireHandler) Handle(ctx context.Context, cmd Expire) error {
	return endApplication(ctx, h.Streams, h.Shredder, cmd.ApplicationID, func(a *application.Application) ([]domain.Event, error) {
		return a.Expire(h.Clock.Now())
	})
}

// AwaitingFinder finds the applications awaiting reception that were
// completed at or before t (projections/setup.Reader).
type AwaitingFinder interface {
	AwaitingCompletedBy(ctx context.Context, t time.Time) ([]string, error)
}

// ExpireDue is the expiry job: it expires every application the 60-day
// rule makes due. The view names candidates by completion time, never by a
// deadline it stored; the domain decides on each.
func ExpireDue(candidates AwaitingFinder, expire ExpireHandler) DueHandler {
	return DueHandler{Clock: expire.Clock, CutOff: application.ExpiryDueIfCompletedBy, Find: candidates.AwaitingCompletedBy,
		Run: func(ctx context.Context, id string) error { return expire.Handle(ctx, Expire{ApplicationID: id}) }}
}

func endApplication(ctx context.Context, st EventStreams, sh Shredder, id string, decide func(*application.Application) ([]domain.Event, error)) error {
	a := application.New()
	v, err := st.Load(ctx, ApplicationStream(id), a.Apply)
	if err != nil {
		return err
	}
	if v == 0 {
		return application.ErrNotFound
	}
	evs, err := decide(a)
	if err != nil {
		return err
	}
	if _, err := st.Append(ctx, ApplicationStream(id), v, evs...); err != nil {
		return err
	}
	if a.Status() == application.StatusExpired || a.Status() == application.StatusRetentionEnded || len(evs) > 0 {
		return sh.Shred(ctx, id)
	}
	return nil
}
