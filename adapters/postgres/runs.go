package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
)

// RunLog writes the progress of long work (table run_progress) where every
// instance on the database reads it (projections/runs.Reader): a billing
// run's or a usage upload's page served by another replica shows how far
// it has got. Progress is telemetry: it is written outside the work's
// transactions, and losing a write loses nothing but a figure on a page.
type RunLog struct {
	Pool *pgxpool.Pool
}

// ErrRunTaken: the run ID belongs to another account's or another kind of
// run (409).
var ErrRunTaken = domain.Conflict("run_taken", "This run ID is in use by another run: choose a new random one.")

// Begin records a run that starts now. An ID used before by the same
// subject for the same kind starts again from nothing (a form sent twice);
// one used by another subject or kind is ErrRunTaken.
func (l RunLog) Begin(ctx context.Context, id, kind, subject string) error {
	var got string
	err := l.Pool.QueryRow(ctx, `INSERT INTO run_progress (id, kind, subject) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET done = 0, total = 0, started_at = now(), updated_at = now(), ended_at = NULL, result = NULL, failure = ''
WHERE run_progress.subject = EXCLUDED.subject AND run_progress.kind = EXCLUDED.kind
RETURNING id`, id, kind, subject).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrRunTaken
	}
	return err
}

// Progress records done of total (total 0: not known yet) for a run that
// has not ended; it also tells readers the run is alive.
func (l RunLog) Progress(ctx context.Context, id string, done, total int64) error {
	_, err := l.Pool.Exec(ctx, `UPDATE run_progress SET done = $2, total = $3, updated_at = now() WHERE id = $1 AND ended_at IS NULL`, id, done, total)
	return err
}

// End records a run's final state: done of total, its result (JSON) or
// why it failed.
func (l RunLog) End(ctx context.Context, id string, done, total int64, result any, failure string) error {
	var js []byte
	if result != nil {
		var err error
		if js, err = json.Marshal(result); err != nil {
			return err
		}
	}
	_, err := l.Pool.Exec(ctx, `UPDATE run_progress SET done = $2, total = $3, result = $4, failure = $5, updated_at = now(), ended_at = now() WHERE id = $1`,
		id, done, total, js, failure)
	return err
}

// Purge deletes the runs not touched for longer than kept, and says how
// many (a scheduled job).
func (l RunLog) Purge(ctx context.Context, kept time.Duration) (int64, error) {
	tag, err := l.Pool.Exec(ctx, `DELETE FROM run_progress WHERE updated_at < now() - make_interval(secs => $1)`, kept.Seconds())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
