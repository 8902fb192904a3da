package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/logapi"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
)

// TestLogKey is the log signing key of Config.TestKeys (tests only).
const TestLogKey = "PRIVATE+KEY+gantry.test/log+21723018+AUjFySJ0d/26rzOyfBgU6XMMeAnzgy2KpN9+eDgmHivF"

// LogFeature is the transparency log: the sequencer (a projector), the
// checkpoint signer (a background loop), the public /v1/log routes and the
// audit export (README: GANTRY_LOG_KEY, GANTRY_CHECKPOINT_DIR).
type LogFeature struct {
	d         Deps
	Signer    *tlog.Signer
	Publisher *tlog.Publisher
	Reader    tlog.Reader
	Exporter  tlog.Exporter
	Dir       string // witness directory ("" writes none)
}

func newLogFeature(d Deps) (Feature, error) {
	skey := d.Config.Extra["GANTRY_LOG_KEY"]
	if skey == "" {
		return nil, fmt.Errorf("GANTRY_LOG_KEY is not set: give a note signer key (gantry log keygen ORIGIN prints one; make run creates a development key in .local/dev.env)")
	}
	s, err := tlog.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("GANTRY_LOG_KEY: %w", err)
	}
	f := &LogFeature{d: d, Signer: s, Dir: d.Config.Extra["GANTRY_CHECKPOINT_DIR"]}
	f.Reader = tlog.Reader{Pool: d.Pool, VerifierKey: s.VerifierKey()}
	f.Exporter = tlog.Exporter{Pool: d.Pool, VerifierKey: s.VerifierKey()}
	f.Publisher = &tlog.Publisher{Pool: d.Pool, Signer: s, Dir: f.Dir, Now: d.Clock.Now, Log: d.Log}
	return f, nil
}

func (f *LogFeature) Events(*es.Registry) {}

func (f *LogFeature) Projectors() []projections.Projector {
	return []projections.Projector{tlog.NewSequencer()}
}

// Collectors are the signer's metrics (refusals, newest checkpoint's size
// and age).
func (f *LogFeature) Collectors() []prometheus.Collector {
	return []prometheus.Collector{tlog.NewMetrics(f.Publisher)}
}

func (f *LogFeature) Handlers() []bus.Handler { return nil }

func (f *LogFeature) Routes(s *api.Server) {
	svc := &logapi.Service{Log: f.Reader, VerifierKey: f.Signer.VerifierKey(),
		Export: func(ctx context.Context, q logapi.Query, w io.Writer) error {
			_, err := f.Exporter.Export(ctx, tlog.ExportQuery(q), w)
			return err
		}}
	svc.Routes(s)
}

func (f *LogFeature) Jobs() []Job { return nil }

// Background signs checkpoints (publishing them on a's bus) until ctx ends.
func (f *LogFeature) Background(ctx context.Context, a *App) {
	f.Publisher.Bus = a.Bus
	f.Publisher.Run(ctx)
}

// Problems reports a signer that refuses to sign because the stored tree
// does not extend a signed checkpoint: /healthz answers 503 with it until
// an operator has found out why (gantry verify).
func (f *LogFeature) Problems() []string {
	if err := f.Publisher.Err(); errors.Is(err, tlog.ErrInconsistent) {
		return []string{"transparency log: not signing: " + err.Error()}
	}
	return nil
}

// TLog returns the transparency-log feature of a, or nil.
func (a *App) TLog() *LogFeature {
	for _, f := range a.Features {
		if l, ok := f.(*LogFeature); ok {
			return l
		}
	}
	return nil
}
