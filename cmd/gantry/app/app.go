// Package app is Gantry's composition root: it builds every part from a
// Config and passes them in explicitly. main and the end-to-end tests both
// build through it.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/web"
)

// App is a built Gantry.
type App struct {
	Config   Config
	Log      *slog.Logger
	Clock    commands.Clock
	Pool     *pgxpool.Pool
	Store    *postgres.Store
	Registry *es.Registry
	Sealer   *es.Sealer
	Codec    *es.Codec
	Streams  commands.Streams
	Runner   *projections.Runner
	Bus      *bus.Bus
	API      *api.Server
	Web      *web.Site
	Metrics  *prometheus.Registry
	Features []Feature
	Jobs     []Job

	ready atomic.Bool // migrations applied, background work started
	// schedulerLeader is 1 while this process runs the scheduled jobs.
	schedulerLeader prometheus.Gauge
}

// Build builds Gantry without touching the database (it may be down; Start
// waits for it).
func Build(cfg Config, clock commands.Clock, log *slog.Logger) (*App, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = 32
	// Gantry's own connections can never be the long transaction that holds
	// global-log delivery back (see gantry_xmin_horizon_age_seconds).
	for param, env := range map[string]string{"idle_in_transaction_session_timeout": "GANTRY_PG_IDLE_TX_TIMEOUT", "statement_timeout": "GANTRY_PG_STATEMENT_TIMEOUT"} {
		d, err := cfg.Duration(env, map[string]time.Duration{"GANTRY_PG_IDLE_TX_TIMEOUT": 30 * time.Second, "GANTRY_PG_STATEMENT_TIMEOUT": 5 * time.Minute}[env])
		if err != nil {
			return nil, err
		}
		pcfg.ConnConfig.RuntimeParams[param] = strconv.FormatInt(d.Milliseconds(), 10)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Clock: clock, Pool: pool, Metrics: prometheus.NewRegistry()}
	a.schedulerLeader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gantry_scheduler_leader",
		Help: "1 while this process runs the scheduled jobs (with GANTRY_REPLICAS=on, exactly one process at a time)."})
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), a.schedulerLeader)
	// Events stay small: an event over 64 KiB is refused (413
	// event_too_large over HTTP); bulk detail lives beside the log.
	a.Store = postgres.NewStore(pool, clock, postgres.WithPollInterval(cfg.PollEvery), postgres.WithMaxEventSize(es.MaxEventSize))
	a.Sealer, err = es.NewSealer(cfg.KEK, postgres.NewKeyTable(pool))
	if err != nil {
		return nil, err
	}
	a.Registry = es.NewRegistry()
	a.Codec = es.NewCodec(a.Registry, a.Sealer)
	a.Streams = commands.Streams{Store: a.Store, Codec: a.Codec}

	deps := Deps{Pool: pool, Streams: a.Streams, Sealer: a.Sealer, Clock: clock, Log: log, Config: cfg,
		WaitFor: func(ctx context.Context, pos es.Position) error { return a.Runner.WaitFor(ctx, pos) }}
	a.Features, err = features(deps)
	if err != nil {
		return nil, err
	}
	var (
		projs    []projections.Projector
		handlers []bus.Handler
	)
	for _, f := range a.Features {
		f.Events(a.Registry)
		projs = append(projs, f.Projectors()...)
		handlers = append(handlers, f.Handlers()...)
		a.Jobs = append(a.Jobs, f.Jobs()...)
		if m, ok := f.(interface{ Collectors() []prometheus.Collector }); ok {
			a.Metrics.MustRegister(m.Collectors()...)
		}
	}
	a.Bus, err = bus.New(bus.Config{Backend: cfg.Bus, NATSURL: cfg.NATSURL, Pool: pool, Store: a.Store, Codec: a.Codec, Log: log, Metrics: a.Metrics,
		RetryInterval: cfg.BusRetry, MaxRetryInterval: cfg.BusRetryMax}, handlers)
	if err != nil {
		return nil, err
	}
	projs = append(projs, a.Bus.Outbox())
	a.Runner = projections.NewRunner(pool, a.Store, a.Codec, log, projs...)
	a.Runner.SetLeadership(cfg.Replicas)
	a.Metrics.MustRegister(projections.NewCollector(a.Runner).WithHorizon(a.Horizon))

	a.API = api.New(api.Config{
		Tokens:      api.NewTokens(cfg.TokenKey, cfg.TokenTTL, clock.Now),
		Pool:        func() *pgxpool.Pool { return pool },
		Health:      health{a},
		Log:         log,
		Metrics:     a.Metrics,
		Unavailable: postgres.IsUnavailable,
		CommandKey:  commandKey(cfg.TokenKey),
		WaitFor:     func(ctx context.Context, pos es.Position) error { return a.Runner.WaitFor(ctx, pos) },
		Abuse: api.AbuseConfig{Limits: cfg.Security.Limits, TrustedProxies: cfg.Security.TrustedProxies,
			Revocations: postgres.Revocations{Pool: pool}, RateStore: rateStore(cfg, pool)},
	})
	for _, f := range a.Features {
		f.Routes(a.API)
	}
	if err := a.mountWeb(); err != nil {
		return nil, err
	}
	return a, nil
}

// Horizon reports what holds global-log delivery back (metrics and
// `gantry projections status`).
func (a *App) Horizon(ctx context.Context) (projections.Horizon, error) {
	h, err := a.Store.Horizon(ctx)
	return projections.Horizon{OldestAge: h.OldestAge, OldestPID: h.OldestPID, OldestState: h.OldestState, OldestApp: h.OldestApp,
		OldestDatabase: h.OldestDatabase, Waiting: h.Waiting}, err
}

// commandKey scopes Idempotency-Keys and derives what keyed commands
// generate; it comes from the token key, so it needs no configuration.
// rateStore shares the rate limits' buckets through PostgreSQL when several
// instances serve one database (GANTRY_REPLICAS=on); nil keeps them in this
// process's memory.
func rateStore(cfg Config, pool *pgxpool.Pool) api.RateStore {
	if !cfg.Replicas {
		return nil
	}
	m := hmac.New(sha256.New, cfg.TokenKey)
	m.Write([]byte("gantry rate limit keys v1"))
	return &postgres.RateLimits{Pool: pool, Key: m.Sum(nil)}
}

func commandKey(tokenKey []byte) []byte {
	m := hmac.New(sha256.New, tokenKey)
	m.Write([]byte("gantry command keys v1"))
	return m.Sum(nil)
}

// Start waits for the database (retrying with backoff and saying why),
// applies migrations, then runs projectors, the integration bus and the
// scheduler until ctx ends. The returned channel closes when all of them have
// stopped.
func (a *App) Start(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		delay := 500 * time.Millisecond
		for {
			err := postgres.Migrate(ctx, a.Pool, a.Log)
			if err == nil {
				err = a.prepare(ctx)
			}
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			a.Log.Error("database not reachable or not migratable; retrying", "in", delay.String(), "err", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(delay*2, 30*time.Second)
		}
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); a.Runner.Run(ctx) }()
		go func() {
			defer wg.Done()
			// The bus starts again after a failure (database or broker
			// gone); undelivered messages wait for it.
			for wait := time.Second; ctx.Err() == nil; wait = min(wait*2, 30*time.Second) {
				began := time.Now()
				err := a.Bus.Run(ctx)
				if err == nil || ctx.Err() != nil {
					return
				}
				if time.Since(began) > time.Minute {
					wait = time.Second // it ran well: a new failure starts the backoff again
				}
				a.Log.Error("integration bus stopped; starting again", "err", err.Error(), "in", wait.String())
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
		}()
		go func() { defer wg.Done(); a.schedule(ctx) }()
		if a.Config.Replicas {
			// A projector led by another process wakes at once on this
			// process's appends (NOTIFY), and this one's on theirs.
			wg.Add(1)
			go func() { defer wg.Done(); a.Store.ShareWakes(ctx) }()
		}
		for _, f := range a.Features { // features with a loop of their own (the log's signer)
			if bg, ok := f.(interface{ Background(context.Context, *App) }); ok {
				wg.Add(1)
				go func() { defer wg.Done(); bg.Background(ctx, a) }()
			}
		}
		a.ready.Store(true)
		wg.Wait()
	}()
	return done
}

// prepare runs every feature's Preparer.
func (a *App) prepare(ctx context.Context) error {
	ctx = commands.WithMetadata(ctx, es.Metadata{CorrelationID: "prepare", Actor: es.Actor{Role: "system", ID: "prepare"}})
	for _, f := range a.Features {
		if p, ok := f.(Preparer); ok {
			if err := p.Prepare(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunJob runs the named job now (tests move the clock and call this).
func (a *App) RunJob(ctx context.Context, name string) error {
	for _, j := range a.Jobs {
		if j.Name == name {
			return j.Run(commands.WithMetadata(ctx, es.Metadata{CorrelationID: "job:" + name, Actor: es.Actor{Role: "system", ID: "scheduler"}}))
		}
	}
	return fmt.Errorf("no job %q", name)
}

// schedulerLock names the advisory lock of the scheduler's leadership.
// Durable across versions: replicas of two versions must agree on it.
const schedulerLock = "gantry scheduler"

// schedule runs the jobs every JobEvery until ctx ends. With replicas
// (GANTRY_REPLICAS=on) it runs them only while this process leads the
// scheduler (a session advisory lock, see projections.Lead): every job is
// active in exactly one process at a time, and when that process dies
// another takes over within seconds (its next tick runs the jobs).
func (a *App) schedule(ctx context.Context) {
	if len(a.Jobs) == 0 || a.Config.JobEvery <= 0 {
		return
	}
	if !a.Config.Replicas {
		a.scheduleLed(ctx)
		return
	}
	for ctx.Err() == nil {
		lctx, release, ok := projections.Lead(ctx, a.Pool.Config().ConnConfig.Copy(), schedulerLock, a.Log)
		if !ok {
			return
		}
		a.Log.Info("this process runs the scheduled jobs")
		a.scheduleLed(lctx)
		release()
	}
}

// scheduleLed runs the jobs every JobEvery until ctx ends, while
// gantry_scheduler_leader says so.
func (a *App) scheduleLed(ctx context.Context) {
	a.schedulerLeader.Set(1)
	defer a.schedulerLeader.Set(0)
	t := time.NewTicker(a.Config.JobEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, j := range a.Jobs {
				if ctx.Err() != nil {
					return
				}
				if err := a.RunJob(ctx, j.Name); err != nil && ctx.Err() == nil {
					a.Log.Error("job failed", "job", j.Name, "err", err.Error())
				}
			}
		}
	}
}

// Close releases the pool.
func (a *App) Close() { a.Pool.Close() }

type health struct{ a *App }

func (h health) Live() (bool, []string) {
	ok, problems := h.a.Runner.Healthy()
	for _, f := range h.a.Features { // a feature's own halted work (the log's signer refusing)
		if p, has := f.(interface{ Problems() []string }); has {
			if more := p.Problems(); len(more) > 0 {
				ok, problems = false, append(problems, more...)
			}
		}
	}
	return ok, problems
}

func (h health) Ready(ctx context.Context) (bool, []string) {
	var problems []string
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.a.Pool.Ping(ctx); err != nil {
		problems = append(problems, "database unreachable")
	}
	if !h.a.ready.Load() {
		problems = append(problems, "starting: migrations not applied yet")
	}
	for _, s := range h.a.Runner.Statuses(ctx) {
		// A standby projector (another replica leads it) is ready: its
		// view is the shared one, and this process mirrors its checkpoint.
		if s.State != projections.StateRunning && s.State != projections.StateStandby {
			msg := "projector " + s.Name + " is " + s.State
			if s.Error != "" {
				msg += ": " + s.Error
			}
			problems = append(problems, msg)
		}
	}
	return len(problems) == 0, problems
}
