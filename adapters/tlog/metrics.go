package tlog

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exposes the checkpoint signer on /metrics: refusals to sign (the
// stored tree does not extend a signed checkpoint: someone or something
// rewrote the log; run gantry verify), whether it is refusing now, and the
// newest signed checkpoint's size and age (read from the database at scrape
// time, so every replica reports the log's, whoever signed it).
type Metrics struct {
	p                                 *Publisher
	refusals, refusing, size, age, at *prometheus.Desc
}

// NewMetrics returns the collector of p.
func NewMetrics(p *Publisher) *Metrics {
	return &Metrics{p: p,
		refusals: prometheus.NewDesc("gantry_log_signer_refusals_total",
			"Checkpoint signatures refused because the stored tree is not consistent with a checkpoint signed before (the log was rewritten or truncated; run gantry verify).", nil, nil),
		refusing: prometheus.NewDesc("gantry_log_signer_refusing",
			"1 while the signer's last attempt was refused as inconsistent; 0 otherwise.", nil, nil),
		size: prometheus.NewDesc("gantry_log_signed_tree_size",
			"Tree size of the newest signed checkpoint.", nil, nil),
		at: prometheus.NewDesc("gantry_log_last_signed_timestamp_seconds",
			"When the newest checkpoint was signed (Unix time).", nil, nil),
		age: prometheus.NewDesc("gantry_log_last_signed_age_seconds",
			"Seconds since the newest checkpoint was signed (grows while events arrive only when signing has stopped).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.refusals, m.refusing, m.size, m.at, m.age} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.p.mu.Lock()
	refusals, refusing := m.p.refusals, errors.Is(m.p.lastErr, ErrInconsistent)
	m.p.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.refusals, prometheus.CounterValue, float64(refusals))
	flag := 0.0
	if refusing {
		flag = 1
	}
	ch <- prometheus.MustNewConstMetric(m.refusing, prometheus.GaugeValue, flag)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var (
		size int64
		at   time.Time
	)
	err := m.p.Pool.QueryRow(ctx, `SELECT tree_size, signed_at FROM tlog_checkpoints ORDER BY tree_size DESC LIMIT 1`).Scan(&size, &at)
	if errors.Is(err, pgx.ErrNoRows) || err != nil {
		return // nothing signed yet, or the database is away: no gauge rather than a wrong one
	}
	now := time.Now()
	if m.p.Now != nil {
		now = m.p.Now()
	}
	ch <- prometheus.MustNewConstMetric(m.size, prometheus.GaugeValue, float64(size))
	ch <- prometheus.MustNewConstMetric(m.at, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, now.Sub(at).Seconds())
}
