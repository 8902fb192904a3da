package setup

import (
	"context"
	"errors"
	"time"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
)

// DueResult is what one run of a scheduled command did with its candidates.
// A candidate the domain refuses does not stop the others.
type DueResult struct {
	Done    []string  // the command was applied (or had been: idempotent)
	Refused []DueSkip // the domain refused (not due under today's rule, received meanwhile…): left as it is
	Failed  []DueSkip // could not be handled now (store unavailable, a concurrent change): the next run tries again
}

// DueSkip is a candidate left alone and why.
type DueSkip struct {
	ID  string
	Err error
}

// Err joins the failures (not the refusals), or is nil.
func (r DueResult) Err() error {
	errs := make([]error, 0, len(r.Failed))
	for _, f := range r.Failed {
		errs = append(errs, f.Err)
	}
	return errors.Join(errs...)
}

// runDue applies handle to every candidate, sorting each outcome; it stops
// early only when ctx ends.
func runDue(ctx context.Context, ids []string, handle func(ctx context.Context, id string) error) DueResult {
	var r DueResult
	for _, id := range ids {
		if ctx.Err() != nil {
			r.Failed = append(r.Failed, DueSkip{id, ctx.Err()})
			continue
		}
		err := handle(ctx, id)
		var refusal *domain.Error
		switch {
		case err == nil:
			r.Done = append(r.Done, id)
		case errors.As(err, &refusal) && refusal.Kind != domain.KindUnavailable:
			r.Refused = append(r.Refused, DueSkip{id, err})
		default:
			r.Failed = append(r.Failed, DueSkip{id, err})
		}
	}
	return r
}

// DueHandler is a time-driven command (a scheduled job): Find names the
// candidates due at CutOff(now) (now itself when CutOff is nil), as a view
// sees them; Run applies the command to one, where the domain decides. A
// candidate the domain refuses is skipped and the others still run.
type DueHandler struct {
	Clock  commands.Clock
	CutOff func(now time.Time) time.Time
	Find   func(ctx context.Context, t time.Time) ([]string, error)
	Run    func(ctx context.Context, id string) error
}

// Handle runs the command on every candidate; only failing to find them is
// an error (failures of single candidates are in the result).
func (h DueHandler) Handle(ctx context.Context) (DueResult, error) {
	t := h.Clock.Now()
	if h.CutOff != nil {
		t = h.CutOff(t)
	}
	ids, err := h.Find(ctx, t)
	if err != nil {
		return DueResult{}, err
	}
	return runDue(ctx, ids, h.Run), nil
}
