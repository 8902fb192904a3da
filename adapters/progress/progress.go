// Package progress shows how far long work has got: a progress bar when the
// output is a terminal (github.com/schollz/progressbar/v3), otherwise one
// plain log line every few seconds (done, total, rate, time left), so that
// logs of a run under a scheduler or in CI stay readable.
package progress

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter counts work done towards a total. Safe for concurrent use.
type Reporter struct {
	what  string
	total int64
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	every time.Duration

	mu     sync.Mutex
	done   int64
	start  time.Time
	logged time.Time
}

// New returns a Reporter of `what` (e.g. "events") towards total (0 or less:
// unknown). On a terminal out shows a bar; otherwise log gets a line at most
// every `every`.
func New(out io.Writer, log *slog.Logger, what string, total int64, every time.Duration) *Reporter {
	r := &Reporter{what: what, total: total, log: log, every: every, start: time.Now()}
	r.logged = r.start
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		max := total
		if max <= 0 {
			max = -1
		}
		r.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(what),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return r
}

// SetTotal sets the total once it is known.
func (r *Reporter) SetTotal(total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.total == total {
		return
	}
	r.total = total
	if r.bar != nil {
		r.bar.ChangeMax64(total)
	}
}

// Set records that done units are finished in all.
func (r *Reporter) Set(done int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = done
	if r.bar != nil {
		_ = r.bar.Set64(done)
		return
	}
	if now := time.Now(); now.Sub(r.logged) >= r.every {
		r.logged = now
		r.line("progress")
	}
}

// Finish clears the bar, or logs the final line.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		return
	}
	r.line("done")
}

func (r *Reporter) line(msg string) {
	if r.log == nil {
		return
	}
	el := time.Since(r.start)
	rate := float64(r.done) / max(el.Seconds(), 1e-9)
	args := []any{"what", r.what, "done", r.done, "per_second", int64(rate), "elapsed", el.Round(time.Second).String()}
	if r.total > 0 {
		args = append(args, "total", r.total)
		if rate > 0 && r.done < r.total {
			args = append(args, "left", (time.Duration(float64(r.total-r.done)/rate) * time.Second).Round(time.Second).String())
		}
	}
	r.log.Info(msg, args...)
}
