package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
)

// Deps is what the engine gives a feature.
type Deps struct {
	Pool    *pgxpool.Pool
	Streams commands.Streams
	Sealer  *es.Sealer
	Clock   commands.Clock
	Log     *slog.Logger
	Config  Config
	// Revocations is the token deny-list (staff changes revoke in their
	// transaction and tell its cache).
	Revocations postgres.Revocations
	// WaitFor blocks until every projector has processed up to pos
	// (read-your-writes for endpoints that answer from a view).
	WaitFor func(ctx context.Context, pos es.Position) error
}

// Job is a time-driven task the scheduler runs every Every (expiry,
// retention, renewal notices, month-end). Run must be idempotent: it may fire
// twice for the same moment.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Feature is one business area wired into the engine: its event types (with
// upcasters), projectors, integration handlers, HTTP routes and jobs.
type Feature interface {
	Events(reg *es.Registry)
	Projectors() []projections.Projector
	Handlers() []bus.Handler
	Routes(s *api.Server)
	Jobs() []Job
}

// Preparer is a feature with one-off work to do after the migrations and
// before background work starts (moving data a migration retired). Prepare
// must be repeatable: a failure is retried like a failed migration.
type Preparer interface {
	Prepare(ctx context.Context) error
}
