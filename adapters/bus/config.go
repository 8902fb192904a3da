package bus

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
)

// Config of the bus.
type Config struct {
	Backend string // "sql" (default) or "nats"
	NATSURL string
	Pool    *pgxpool.Pool
	Store   es.Store
	Codec   *es.Codec
	Log     *slog.Logger
	Metrics *prometheus.Registry
}

// Bus is the outbox projector plus the delivery router.
type Bus struct {
	cfg      Config
	handlers []Handler
}

// New returns a Bus delivering to handlers.
func New(cfg Config, handlers []Handler) (*Bus, error) {
	return &Bus{cfg: cfg, handlers: handlers}, nil
}

// OutboxName is the outbox projector's durable name. It is never rebuilt:
// replaying it would publish every message again.
const OutboxName = "outbox"

// Outbox returns the projector that turns committed events into messages.
func (b *Bus) Outbox() projections.Projector { return outbox{b} }

type outbox struct{ b *Bus }

func (outbox) Name() string                               { return OutboxName }
func (outbox) Setup(ctx context.Context, tx pgx.Tx) error { return nil }
func (o outbox) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	return o.b.publish(ctx, tx, evs)
}

// Run runs the delivery router until ctx ends.
func (b *Bus) Run(ctx context.Context) error { return b.run(ctx) }
