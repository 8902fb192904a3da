package cardsapi

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain"
)

// RunLog records the progress of long work where every instance on the
// database reads it (adapters/postgres.RunLog; read back with
// projections/runs.Reader). Progress is telemetry: it is written outside
// the work's transactions.
type RunLog interface {
	Begin(ctx context.Context, id, kind, subject string) error
	Progress(ctx context.Context, id string, done, total int64) error
	End(ctx context.Context, id string, done, total int64, result any, failure string) error
}

// Kinds of runs.
const (
	RunBilling = "billing"
	RunUsage   = "usage"
)

// runIDs are the IDs a client may choose for a run (a random token).
var runIDs = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// ValidRunID reports whether id may name a run.
func ValidRunID(id string) bool { return runIDs.MatchString(id) }

var errBadRunID = domain.Invalid("bad_run_id", "A run ID is 16 to 64 letters, digits, '-' or '_' (a random token the client chooses).")

// flushEvery is how often a run's progress is written at most; beatEvery
// how often a run that has not moved says it is alive
// (projections/runs.StalledAfter is well above it).
const (
	flushEvery = 250 * time.Millisecond
	beatEvery  = 5 * time.Second
)

// Tracker writes one run's progress to a RunLog: Set only records the
// figures (it is called from the work's hot loop), a goroutine writes them
// at most every flushEvery, and Finish writes the final state. A nil
// *Tracker does nothing (no run ID given, or no RunLog).
type Tracker struct {
	log         RunLog
	id          string
	done, total atomic.Int64
	stop        chan struct{}
	stopped     sync.WaitGroup
}

// Track begins run id (kind, started by subject) and writes its progress
// until Finish. A nil log or an empty id tracks nothing.
func Track(ctx context.Context, log RunLog, id, kind, subject string) (*Tracker, error) {
	if log == nil || id == "" {
		return nil, nil
	}
	if !ValidRunID(id) {
		return nil, errBadRunID
	}
	if err := log.Begin(ctx, id, kind, subject); err != nil {
		return nil, err
	}
	t := &Tracker{log: log, id: id, stop: make(chan struct{})}
	t.stopped.Add(1)
	go t.flush(context.WithoutCancel(ctx))
	return t, nil
}

// Set records done of total (total 0: not known yet).
func (t *Tracker) Set(done, total int64) {
	if t == nil {
		return
	}
	t.done.Store(done)
	t.total.Store(total)
}

func (t *Tracker) flush(ctx context.Context) {
	defer t.stopped.Done()
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var wrote [2]int64
	var at time.Time
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		now := [2]int64{t.done.Load(), t.total.Load()}
		if now == wrote && time.Since(at) < beatEvery {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := t.log.Progress(wctx, t.id, now[0], now[1]); err == nil {
			wrote, at = now, time.Now()
		}
		cancel()
	}
}

// Finish stops the progress writes and records the run's final state: the
// figures last Set and its result, or why it failed (failure not empty).
func (t *Tracker) Finish(ctx context.Context, result any, failure string) error {
	if t == nil {
		return nil
	}
	close(t.stop)
	t.stopped.Wait()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return t.log.End(wctx, t.id, t.done.Load(), t.total.Load(), result, failure)
}

func (s *Service) getRun(c echo.Context) error {
	x, err := s.Runs.Run(c.Request().Context(), c.Param("run"), api.PrincipalOf(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, x)
}

// failureText is what a run's page says about err: the problem's detail.
func failureText(err error) string {
	p := api.ProblemFor(err)
	if p.Status >= 500 {
		return "The run failed on the server; what it committed stays. Run it again: nothing is done twice."
	}
	if p.Detail != "" {
		return p.Detail
	}
	return p.Title
}

// CountingReader counts the bytes read through it (N), for a progress
// estimate while another goroutine reads.
type CountingReader struct {
	R io.Reader
	N atomic.Int64
}

func (r *CountingReader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.N.Add(int64(n))
	return n, err
}

// EstimateRows is the rows a file of size bytes holds if its rest is like
// the read bytes that gave rows (0: unknown).
func EstimateRows(rows, read, size int64) int64 {
	if rows <= 0 || read <= 0 || size <= 0 {
		return 0
	}
	if read >= size {
		return rows
	}
	return max(rows, int64(float64(rows)*float64(size)/float64(read)))
}
