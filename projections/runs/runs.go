// Package runs reads the progress of long work started over HTTP (billing
// runs, usage uploads) from the table every instance writes it to
// (run_progress, adapters/postgres.RunLog), so any replica can show it.
package runs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
)

// StalledAfter: a run that has not ended and has not reported for this
// long has stopped (its process went away); the running process reports
// at least every few seconds.
const StalledAfter = 30 * time.Second

// Run is how far one piece of work has got.
type Run struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"` // billing, usage
	Done  int64  `json:"done"`
	Total int64  `json:"total"` // 0: not known yet
	// Percent of Total done; PerSecond in wall time since the start;
	// SecondsLeft at that rate (absent until known).
	Percent     int     `json:"percent"`
	PerSecond   float64 `json:"per_second"`
	SecondsLeft *int64  `json:"seconds_left,omitempty"`
	// Elapsed is the wall time from the start to the end, or to now.
	Elapsed time.Duration `json:"-"`
	Started time.Time     `json:"started"`
	Ended   *time.Time    `json:"ended,omitempty"`
	// Stalled: not ended, and no report for StalledAfter (the process
	// that ran it stopped; what it committed stays).
	Stalled bool `json:"stalled"`
	// Result is what the run answered (for billing the outcome per
	// contract, for an upload the import's counts); Failure why it failed.
	Result  json.RawMessage `json:"result,omitempty"`
	Failure string          `json:"failure,omitempty"`
}

// Reader reads runs.
type Reader struct {
	Pool *pgxpool.Pool
}

// Run is the run id started by subject; another subject's run is not
// found.
func (r Reader) Run(ctx context.Context, id, subject string) (Run, error) {
	var (
		x       Run
		elapsed float64
		stalled bool
		result  []byte
	)
	err := r.Pool.QueryRow(ctx, `SELECT id, kind, done, total, started_at, ended_at, result, failure,
  extract(epoch FROM coalesce(ended_at, now()) - started_at)::float8,
  ended_at IS NULL AND updated_at < now() - make_interval(secs => $3)
FROM run_progress WHERE id = $1 AND subject = $2`, id, subject, StalledAfter.Seconds()).
		Scan(&x.ID, &x.Kind, &x.Done, &x.Total, &x.Started, &x.Ended, &result, &x.Failure, &elapsed, &stalled)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, domain.NotFound("run_not_found", "No such run of yours: it may have been started by another account, or more than 7 days ago.")
	}
	if err != nil {
		return Run{}, err
	}
	x.Stalled = stalled
	if len(result) > 0 {
		x.Result = result
	}
	x.Elapsed = time.Duration(elapsed * float64(time.Second))
	if x.Total > 0 {
		x.Percent = int(min(x.Done*100/x.Total, 100))
	}
	if x.Done > 0 && elapsed > 0 {
		x.PerSecond = float64(x.Done) / elapsed
		if x.Total >= x.Done && x.Ended == nil {
			left := int64(float64(x.Total-x.Done)/x.PerSecond + 0.999)
			x.SecondsLeft = &left
		}
	}
	return x, nil
}
