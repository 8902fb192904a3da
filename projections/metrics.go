package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Horizon is what holds global-log delivery back: the oldest open
// transaction on the database server (readers see nothing that committed
// after it started) and the committed events waiting behind it.
type Horizon struct {
	OldestAge      time.Duration
	OldestPID      int
	OldestState    string
	OldestApp      string
	OldestDatabase string
	Waiting        int64
}

// String is the line `gantry projections status` prints.
func (h Horizon) String() string {
	if h.OldestPID == 0 {
		return fmt.Sprintf("delivery horizon: no open transaction holds delivery back; %d committed events waiting", h.Waiting)
	}
	return fmt.Sprintf("delivery horizon: oldest open transaction pid %d (database %q, application %q, %s) open for %.1fs; %d committed events wait behind it",
		h.OldestPID, h.OldestDatabase, h.OldestApp, h.OldestState, h.OldestAge.Seconds(), h.Waiting)
}

// Collector exposes projector lag on /metrics, computed at scrape time.
type Collector struct {
	r                  *Runner
	lagEvents, lagSecs *prometheus.Desc
	failed             *prometheus.Desc

	horizon                 func(context.Context) (Horizon, error)
	horizonAge, horizonWait *prometheus.Desc
}

// WithHorizon adds the delivery-horizon gauges, read by fn at scrape time.
func (c *Collector) WithHorizon(fn func(context.Context) (Horizon, error)) *Collector {
	c.horizon = fn
	return c
}

// NewCollector returns a Collector for r.
func NewCollector(r *Runner) *Collector {
	l := []string{"projector"}
	return &Collector{r: r,
		lagEvents: prometheus.NewDesc("gantry_projection_lag_events", "Events in the log not yet applied by the projector.", l, nil),
		lagSecs:   prometheus.NewDesc("gantry_projection_lag_seconds", "Age of the oldest event not yet applied by the projector.", l, nil),
		failed:    prometheus.NewDesc("gantry_projection_failed", "1 when the projector has stopped on an event it cannot apply.", l, nil),
		horizonAge: prometheus.NewDesc("gantry_xmin_horizon_age_seconds",
			"Age of the oldest open transaction (with a transaction ID) on the database server: global-log delivery sees nothing committed after it started.", nil, nil),
		horizonWait: prometheus.NewDesc("gantry_xmin_horizon_waiting_events",
			"Committed events that readers cannot see yet because an older transaction is still open.", nil, nil),
	}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lagEvents
	ch <- c.lagSecs
	ch <- c.failed
	ch <- c.horizonAge
	ch <- c.horizonWait
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range c.r.Statuses(ctx) {
		ch <- prometheus.MustNewConstMetric(c.lagEvents, prometheus.GaugeValue, float64(s.LagEvents), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSecs, prometheus.GaugeValue, s.LagSeconds, s.Name)
		f := 0.0
		if s.State == StateFailed {
			f = 1
		}
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, f, s.Name)
	}
	if c.horizon != nil {
		if h, err := c.horizon(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(c.horizonAge, prometheus.GaugeValue, h.OldestAge.Seconds())
			ch <- prometheus.MustNewConstMetric(c.horizonWait, prometheus.GaugeValue, float64(h.Waiting))
		}
	}
}
