package projections

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes projector lag on /metrics, computed at scrape time.
type Collector struct {
	r                  *Runner
	lagEvents, lagSecs *prometheus.Desc
	failed             *prometheus.Desc
}

// NewCollector returns a Collector for r.
func NewCollector(r *Runner) *Collector {
	l := []string{"projector"}
	return &Collector{r: r,
		lagEvents: prometheus.NewDesc("gantry_projection_lag_events", "Events in the log not yet applied by the projector.", l, nil),
		lagSecs:   prometheus.NewDesc("gantry_projection_lag_seconds", "Age of the oldest event not yet applied by the projector.", l, nil),
		failed:    prometheus.NewDesc("gantry_projection_failed", "1 when the projector has stopped on an event it cannot apply.", l, nil),
	}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lagEvents
	ch <- c.lagSecs
	ch <- c.failed
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
}
