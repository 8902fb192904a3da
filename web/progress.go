package web

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// runs keeps the progress of long work started from a page (a billing
// run): the page that starts it redirects to the run's page, which shows
// done / total, the rate and the time left, and reloads itself every
// second (a <meta> refresh: no JavaScript needed) until the run has ended,
// then shows the result. Runs live in the memory of the process that runs
// them; the newest maxRuns are kept.
type runs struct {
	mu   sync.Mutex
	byID map[string]*run
	ids  []string
}

const maxRuns = 64

// run is one piece of long work.
type run struct {
	ID, Kind string
	Started  time.Time
	mu       sync.Mutex
	done     int
	total    int
	ended    time.Time
	result   any
	err      error
	// Subject is who started it: only they may watch it.
	Subject string
}

func (r *runs) start(kind, subject string, now time.Time) *run {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	x := &run{ID: base64.RawURLEncoding.EncodeToString(b), Kind: kind, Subject: subject, Started: now}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]*run{}
	}
	r.byID[x.ID] = x
	r.ids = append(r.ids, x.ID)
	for len(r.ids) > maxRuns {
		delete(r.byID, r.ids[0])
		r.ids = r.ids[1:]
	}
	return x
}

func (r *runs) get(id string) (*run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.byID[id]
	return x, ok
}

// progress records done of total.
func (x *run) progress(done, total int) {
	x.mu.Lock()
	x.done, x.total = done, total
	x.mu.Unlock()
}

// finish records the result (or the error) and the end.
func (x *run) finish(result any, err error, now time.Time) {
	x.mu.Lock()
	x.result, x.err, x.ended = result, err, now
	x.mu.Unlock()
}

// Progress is a run's state as a page shows it.
type Progress struct {
	Done, Total int
	Percent     int
	// Rate per second and time left, as text ("" until known).
	Rate, Left string
	Ended      bool
	Result     any
	Err        error
}

// snapshot is the run's progress at now.
func (x *run) snapshot(now time.Time) Progress {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := Progress{Done: x.done, Total: x.total, Ended: !x.ended.IsZero(), Result: x.result, Err: x.err}
	if p.Ended {
		now = x.ended
	}
	p.Percent, p.Rate, p.Left = progressText(x.done, x.total, now.Sub(x.Started))
	return p
}

// progressText is the percentage, the rate and the time left of done of
// total after elapsed (the same figures the CLI's progress bar shows).
func progressText(done, total int, elapsed time.Duration) (percent int, rate, left string) {
	if total > 0 {
		percent = done * 100 / total
	}
	if done == 0 || elapsed <= 0 {
		return percent, "", ""
	}
	perSec := float64(done) / elapsed.Seconds()
	rate = fmt.Sprintf("%.1f", perSec)
	if total > done {
		left = (time.Duration(float64(total-done)/perSec*float64(time.Second)) + time.Second - 1).Truncate(time.Second).String()
	} else {
		left = "0s"
	}
	return percent, rate, left
}
