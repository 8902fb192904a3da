package web

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	projruns "github.com/gantry-etc/gantry/projections/runs"
)

// Long work started from a page (a billing run, a usage upload) records
// its progress where every instance reads it (cardsapi.Track →
// run_progress; projections/runs.Reader): the billing run's page, served
// by whichever replica, shows done / total, the rate and the time left,
// and reloads itself every second (a <meta> refresh: no JavaScript
// needed) until the run has ended, then shows the result; the upload's
// script polls /finance/uploads/RUN for the rows imported.

// newRunID is a fresh random run ID (cardsapi.ValidRunID).
func newRunID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Progress is a run's state as a page shows it.
type Progress struct {
	Done, Total int
	Percent     int
	// Rate per second and time left, as text ("" until known).
	Rate, Left string
	Ended      bool
	// Stalled: the run stopped without ending (its process went away).
	Stalled bool
}

// progressOf is how a page shows run x.
func progressOf(x projruns.Run) Progress {
	p := Progress{Done: int(x.Done), Total: int(x.Total), Ended: x.Ended != nil || x.Stalled, Stalled: x.Stalled}
	p.Percent, p.Rate, p.Left = progressText(p.Done, p.Total, x.Elapsed)
	return p
}

// progressText is the percentage, the rate and the time left of done of
// total after elapsed (the same figures the CLI's progress bar shows).
func progressText(done, total int, elapsed time.Duration) (percent int, rate, left string) {
	if total > 0 {
		percent = min(done*100/total, 100)
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
