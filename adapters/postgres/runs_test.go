package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/domain"
	projruns "github.com/gantry-etc/gantry/projections/runs"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// TestRunLogWrittenByOneReadByAnother: a run's progress written through
// one pool (one instance) is read through another; an ended run keeps its
// final figures (a late progress write does not move it); its ID is the
// starter's only; old runs are purged.
func TestRunLogWrittenByOneReadByAnother(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	pool := func() *pgxpool.Pool {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	w, r := postgres.RunLog{Pool: pool()}, projruns.Reader{Pool: pool()}
	const id = "run-0123456789abcdef"
	if err := w.Begin(ctx, id, "billing", "fin-1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Progress(ctx, id, 3, 12); err != nil {
		t.Fatal(err)
	}
	x, err := r.Run(ctx, id, "fin-1")
	if err != nil || x.Done != 3 || x.Total != 12 || x.Percent != 25 || x.Ended != nil || x.Stalled || x.Kind != "billing" {
		t.Fatalf("part way: %+v %v", x, err)
	}
	var nf *domain.Error
	if _, err := r.Run(ctx, id, "fin-2"); !errors.As(err, &nf) || nf.Kind != domain.KindNotFound {
		t.Fatalf("another account reads the run: %v", err)
	}
	if err := w.Begin(ctx, id, "billing", "fin-2"); !errors.Is(err, postgres.ErrRunTaken) {
		t.Fatalf("another account takes the ID: %v", err)
	}
	if err := w.End(ctx, id, 12, 12, []string{"a", "b"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Progress(ctx, id, 5, 12); err != nil { // a late write
		t.Fatal(err)
	}
	x, err = r.Run(ctx, id, "fin-1")
	if err != nil || x.Done != 12 || x.Total != 12 || x.Ended == nil || string(x.Result) != `["a", "b"]` || x.SecondsLeft != nil {
		t.Fatalf("ended: %+v (%s) %v", x, x.Result, err)
	}
	// The same starter may start the ID again (a form sent twice).
	if err := w.Begin(ctx, id, "billing", "fin-1"); err != nil {
		t.Fatal(err)
	}
	if x, err = r.Run(ctx, id, "fin-1"); err != nil || x.Done != 0 || x.Ended != nil || x.Result != nil {
		t.Fatalf("started again: %+v %v", x, err)
	}
	// Not ended and no report for a while: its process went away.
	if _, err := w.Pool.Exec(ctx, `UPDATE run_progress SET updated_at = now() - interval '1 minute' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if x, err = r.Run(ctx, id, "fin-1"); err != nil || !x.Stalled {
		t.Fatalf("a run silent for a minute: %+v %v", x, err)
	}
	// A run not touched for longer than kept is purged; a fresh one stays.
	if _, err := w.Pool.Exec(ctx, `UPDATE run_progress SET updated_at = now() - interval '8 days' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, "run-fresh-0123456789", "usage", "fin-1"); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Purge(ctx, 7*24*time.Hour); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := r.Run(ctx, "run-fresh-0123456789", "fin-1"); err != nil {
		t.Fatal(err)
	}
}
