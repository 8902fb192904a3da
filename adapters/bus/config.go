package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
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
	// A delivery that fails is parked (table bus.retries) and tried again
	// after RetryInterval (default 500ms), doubling up to MaxRetryInterval
	// (default 1 min). A failure that says the sink is unavailable (see
	// Temporary: the SMTP server is down) is retried so until it succeeds;
	// any other goes to the poison queue after MaxRetries attempts (default 8).
	MaxRetries       int
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
}

// Bus is the outbox projector plus the delivery router.
type Bus struct {
	cfg       Config
	handlers  []Handler
	byType    map[string][]string // event type → handler names (topics)
	logger    watermill.LoggerAdapter
	nats      *natsBackend
	delivered *prometheus.CounterVec
	retried   *prometheus.CounterVec
	poisoned  *prometheus.CounterVec

	poisonPub message.Publisher
	// handedOver wakes the delivery loop when a message was handed over.
	handedOver chan struct{}
}

// PoisonTopic receives messages that kept failing, for an operator to look
// at (table bus.watermill_gantry_poison on the SQL backend).
const PoisonTopic = "gantry_poison"

// messageNamespace makes message IDs: UUIDv5(event ID ‖ handler name).
var messageNamespace = uuid.MustParse("6d1c1f39-7c38-4b8f-9a0e-5f5d7c0b7a11")

// New returns a Bus delivering to handlers.
func New(cfg Config, handlers []Handler) (*Bus, error) {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 8
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 500 * time.Millisecond
	}
	if cfg.MaxRetryInterval == 0 {
		cfg.MaxRetryInterval = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{cfg: cfg, handlers: handlers, byType: map[string][]string{}, logger: watermill.NewSlogLogger(cfg.Log), handedOver: make(chan struct{}, 1)}
	seen := map[string]bool{}
	for _, h := range handlers {
		if seen[h.Name] {
			return nil, fmt.Errorf("bus: two handlers named %q", h.Name)
		}
		seen[h.Name] = true
		for _, t := range h.Types {
			b.byType[t] = append(b.byType[t], h.Name)
		}
	}
	switch cfg.Backend {
	case "", "sql":
	case "nats":
		b.nats = &natsBackend{url: cfg.NATSURL, logger: b.logger}
	default:
		return nil, fmt.Errorf("bus: unknown backend %q (want sql or nats)", cfg.Backend)
	}
	b.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_bus_delivered_total", Help: "Integration messages delivered, by handler."}, []string{"handler"})
	b.retried = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_bus_retried_total", Help: "Failed deliveries parked to be tried again, by handler."}, []string{"handler"})
	b.poisoned = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_bus_poisoned_total", Help: "Integration messages moved to the poison queue, by handler."}, []string{"handler"})
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(b.delivered, b.retried, b.poisoned)
	}
	return b, nil
}

// sqlSchema keeps watermill's tables in their own schema, "bus".
func sqlSchema() wsql.DefaultPostgreSQLSchema {
	return wsql.DefaultPostgreSQLSchema{
		GenerateMessagesTableName: func(topic string) string { return `"bus"."watermill_` + topic + `"` },
		SubscribeBatchSize:        10, // the subscriber holds its transaction while it hands a batch over: keep it short
	}
}

func sqlOffsets() wsql.DefaultPostgreSQLOffsetsAdapter {
	return wsql.DefaultPostgreSQLOffsetsAdapter{
		GenerateMessagesOffsetsTableName: func(topic string) string { return `"bus"."watermill_offsets_` + topic + `"` },
	}
}

// OutboxName is the outbox projector's durable name. It is never rebuilt:
// replaying it would publish every message again.
const OutboxName = "outbox"

// Ref is a message's payload: which event to deliver.
type Ref struct {
	EventID string `json:"event_id"`
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
	Type    string `json:"type"`
}

// Outbox returns the projector that turns committed events into messages.
func (b *Bus) Outbox() projections.Projector { return outbox{b} }

type outbox struct{ b *Bus }

func (outbox) Name() string { return OutboxName }

// Setup creates the message tables of every topic (SQL backend).
// EventTypes implements projections.Selective: the outbox reads only the
// events some handler wants.
func (o outbox) EventTypes() []string {
	out := make([]string, 0, len(o.b.byType))
	for t := range o.b.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (o outbox) Setup(ctx context.Context, tx pgx.Tx) error { return o.b.initSchema(ctx, tx) }

// initSchema creates the bus schema, the retry table and (SQL backend)
// every topic's tables, under an advisory lock (concurrent CREATE … IF NOT
// EXISTS can still collide).
func (b *Bus) initSchema(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(72731)`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS bus`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, retriesSchema); err != nil {
		return err
	}
	if b.nats != nil {
		return nil
	}
	topics := []string{PoisonTopic, CheckpointTopic}
	for _, h := range b.handlers {
		topics = append(topics, h.Name)
	}
	for _, t := range topics {
		qs, err := sqlSchema().SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams{Topic: t})
		if err != nil {
			return err
		}
		oq, err := sqlOffsets().SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams{Topic: t})
		if err != nil {
			return err
		}
		for _, q := range append(qs, oq...) {
			if _, err := tx.Exec(ctx, q.Query, q.Args...); err != nil {
				return fmt.Errorf("bus schema for %s: %w", t, err)
			}
		}
	}
	return nil
}

// Apply publishes a message per (event, interested handler).
func (o outbox) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	byTopic := map[string][]*message.Message{}
	var order []string
	for _, e := range evs {
		for _, topic := range o.b.byType[e.Type] {
			payload, _ := json.Marshal(Ref{EventID: e.ID.String(), Stream: e.StreamID, Version: e.Version, Type: e.Type})
			m := message.NewMessage(uuid.NewSHA1(messageNamespace, []byte(e.ID.String()+"/"+topic)).String(), payload)
			middleware.SetCorrelationID(e.Metadata.CorrelationID, m)
			m.Metadata.Set("event_type", e.Type)
			if _, ok := byTopic[topic]; !ok {
				order = append(order, topic)
			}
			byTopic[topic] = append(byTopic[topic], m)
		}
	}
	if len(order) == 0 {
		return nil
	}
	if o.b.nats != nil {
		// A broker that cannot take the messages now is an outage, not a
		// bad event: the projector resumes from its checkpoint until the
		// broker is back, instead of stopping on the event.
		p, err := o.b.nats.publisher()
		if err != nil {
			return fmt.Errorf("%w: bus: NATS publisher: %v", es.ErrUnavailable, err)
		}
		for _, t := range order {
			if err := p.Publish(t, byTopic[t]...); err != nil {
				return fmt.Errorf("%w: bus: publishing to %s over NATS: %v", es.ErrUnavailable, t, err)
			}
		}
		return nil
	}
	pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: sqlSchema()}, o.b.logger)
	if err != nil {
		return err
	}
	for _, t := range order {
		if err := pub.Publish(t, byTopic[t]...); err != nil {
			return fmt.Errorf("bus: publishing to %s: %w", t, err)
		}
	}
	return nil
}

// Run runs the delivery router until ctx ends.
func (b *Bus) Run(ctx context.Context) error {
	if len(b.handlers) == 0 {
		<-ctx.Done()
		return nil
	}
	if err := pgx.BeginFunc(ctx, b.cfg.Pool, func(tx pgx.Tx) error { return b.initSchema(ctx, tx) }); err != nil {
		return fmt.Errorf("bus: creating message tables: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, b.logger)
	if err != nil {
		return err
	}
	if b.poisonPub, err = b.publisherForPoison(); err != nil {
		return err
	}
	for _, h := range b.handlers {
		sub, err := b.subscriber(h.Name)
		if err != nil {
			return err
		}
		handler := router.AddConsumerHandler(h.Name, h.Name, sub, b.deliver(h))
		handler.AddMiddleware(middleware.CorrelationID, b.parkOnFailure(h.Name))
	}
	go func() {
		<-ctx.Done()
		_ = router.Close()
	}()
	go b.redeliver(ctx)
	return router.Run(ctx)
}

func (b *Bus) subscriber(group string) (message.Subscriber, error) {
	if b.nats != nil {
		return b.nats.subscriber(group)
	}
	return wsql.NewSubscriber(wsql.BeginnerFromPgx(b.cfg.Pool), wsql.SubscriberConfig{
		ConsumerGroup:    group,
		InitializeSchema: true, // the subscriber may start before the outbox projector has created the tables
		SchemaAdapter:    sqlSchema(),
		OffsetsAdapter:   sqlOffsets(),
		PollInterval:     100 * time.Millisecond,
		ResendInterval:   b.cfg.RetryInterval,
	}, b.logger)
}

func (b *Bus) publisherForPoison() (message.Publisher, error) {
	if b.nats != nil {
		return b.nats.publisher()
	}
	return wsql.NewPublisher(wsql.BeginnerFromPgx(b.cfg.Pool), wsql.PublisherConfig{SchemaAdapter: sqlSchema()}, b.logger)
}

// deliver reads the referenced event, decodes it (personal data unsealed, or
// Erased after shredding) and hands it to the handler.
func (b *Bus) deliver(h Handler) message.NoPublishHandlerFunc {
	return func(m *message.Message) error {
		var ref Ref
		if err := json.Unmarshal(m.Payload, &ref); err != nil {
			return fmt.Errorf("bus: message %s is not an event reference: %w", m.UUID, err)
		}
		ctx := WithMessageID(m.Context(), m.UUID)
		// A message delivered before (a crash after the sink took it and
		// before the ack, a NATS redelivery) is not delivered again: the
		// record is written right after the sink says yes, before the ack.
		var done bool
		if err := b.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bus.deliveries WHERE handler = $1 AND uuid = $2)`, h.Name, m.UUID).Scan(&done); err != nil {
			return fmt.Errorf("%w: bus: reading delivery records: %v", es.ErrUnavailable, err)
		}
		if done {
			return nil
		}
		evs, err := b.cfg.Store.ReadStream(ctx, ref.Stream, es.Forwards, ref.Version, 1)
		if err != nil {
			return err
		}
		if len(evs) != 1 || evs[0].ID.String() != ref.EventID {
			return fmt.Errorf("bus: event %s@%d (%s) not found", ref.Stream, ref.Version, ref.EventID)
		}
		payload, err := b.cfg.Codec.Decode(ctx, evs[0])
		if err != nil {
			return err
		}
		if err := h.Handle(ctx, es.Event{RecordedEvent: evs[0], Payload: payload}); err != nil {
			return err
		}
		b.delivered.WithLabelValues(h.Name).Inc()
		// Recorded with a fresh context: the delivery happened even if the
		// message's context ends now. If this fails, the message is
		// delivered again (the only window for a repeat).
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for attempt := 0; ; attempt++ {
			_, err := b.cfg.Pool.Exec(rctx, `INSERT INTO bus.deliveries (handler, uuid) VALUES ($1, $2) ON CONFLICT DO NOTHING`, h.Name, m.UUID)
			if err == nil || attempt == 4 || rctx.Err() != nil {
				return err
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
	}
}

type messageIDKey struct{}

// WithMessageID attaches the integration message ID to ctx.
func WithMessageID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, messageIDKey{}, id)
}

// MessageID is the stable ID of the integration message being delivered
// (UUIDv5 of event ID and handler), or "" outside a delivery. Sinks use it
// to make repeats recognisable (a mail's Message-ID).
func MessageID(ctx context.Context) string {
	id, _ := ctx.Value(messageIDKey{}).(string)
	return id
}
