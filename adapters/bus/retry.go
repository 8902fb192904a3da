package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// retriesSchema is where failed deliveries wait for their next attempt, one
// row per (handler, message). An operator can read it: how many mails are
// waiting, since when, how many attempts. Rows carry the message (an event
// reference), never personal data.
const retriesSchema = `CREATE TABLE IF NOT EXISTS bus.retries (
	handler   text        NOT NULL,
	uuid      text        NOT NULL,
	payload   bytea       NOT NULL,
	metadata  jsonb       NOT NULL,
	attempts  int         NOT NULL,
	parked_at timestamptz NOT NULL DEFAULT now(),
	due_at    timestamptz NOT NULL,
	PRIMARY KEY (handler, uuid));
CREATE INDEX IF NOT EXISTS retries_due ON bus.retries (due_at);
CREATE TABLE IF NOT EXISTS bus.deliveries (
	handler      text        NOT NULL,
	uuid         text        NOT NULL,
	delivered_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (handler, uuid));
CREATE INDEX IF NOT EXISTS deliveries_at ON bus.deliveries (delivered_at)`

// deliveriesKept is how long a delivery record is kept: longer than any
// message waits to be delivered again (a redelivery of an older message
// would be sent again).
const deliveriesKept = 30 * 24 * time.Hour

const (
	// deliveryTimeout bounds one attempt at a parked message.
	deliveryTimeout = 30 * time.Second
	// lease is how long a claimed parked message is left alone by other
	// processes; a process that dies mid-attempt lets it fall due again.
	lease = 2 * deliveryTimeout
	// redeliverBatch is how many due messages one claim takes.
	redeliverBatch = 50
)

// Temporary reports whether err says that the sink is unavailable for now
// (the first error in its chain with a Temporary method answers true, as
// the mail adapter's does when the SMTP server is down, and as a context
// deadline does). Such a delivery is retried until it succeeds and never
// goes to the poison queue. Handlers return other errors for failures that
// retrying will not cure.
func Temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// unavailable marks an error as temporary.
type unavailable struct{ error }

func (unavailable) Temporary() bool { return true }

// errSinkDown parks a message without an attempt while its handler's sink
// was unavailable at the last attempt: no subscriber transaction is held
// open on a sink that is known to be down.
var errSinkDown = unavailable{errors.New("bus: the sink was unavailable at the last attempt; parked without trying")}

// parkOnFailure is the router middleware of one handler. It never talks
// to the sink: the message is handed over to bus.retries, due now, in one
// short statement on a connection of its own, and acknowledged at once; the
// redelivery loop (redeliver) delivers it outside any transaction. So the
// subscriber, which on the SQL backend holds a database transaction (with a
// row lock, so a transaction ID, keeping back the event store's readable
// horizon) while a message is in flight, holds it for milliseconds per
// message, never for the time a slow or dead sink takes. If the handover
// fails (the database is away), the message is not acknowledged and is
// offered again.
func (b *Bus) parkOnFailure(name string) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(m *message.Message) ([]*message.Message, error) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(m.Context()), 10*time.Second)
			defer cancel()
			md, _ := json.Marshal(m.Metadata)
			// DO NOTHING: a message offered again (a crash before the ack)
			// keeps the attempts it has.
			if _, err := b.cfg.Pool.Exec(ctx, `INSERT INTO bus.retries (handler, uuid, payload, metadata, attempts, due_at)
				VALUES ($1, $2, $3, $4, 0, now()) ON CONFLICT (handler, uuid) DO NOTHING`,
				name, m.UUID, []byte(m.Payload), md); err != nil {
				return nil, fmt.Errorf("%w: bus: handing message %s over for delivery: %v", es.ErrUnavailable, m.UUID, err)
			}
			select {
			case b.handedOver <- struct{}{}:
			default:
			}
			return nil, nil
		}
	}
}

// failed records a failed attempt (the attempts-th) at delivering m to the
// handler name: the message is parked for another attempt after the
// backoff, or, when the failure is not Temporary and it has failed
// MaxRetries times, moved to the poison queue.
func (b *Bus) failed(ctx context.Context, name string, m *message.Message, attempts int, err error) error {
	temporary := Temporary(err)
	// The database being away (es.ErrUnavailable: the delivery record or
	// the event could not be read) is no fault of the message: it never
	// sends one to the poison queue.
	if !temporary && attempts >= b.cfg.MaxRetries && !errors.Is(err, es.ErrUnavailable) {
		return b.poison(ctx, name, m, attempts, err)
	}
	delay := b.backoff(attempts)
	md, _ := json.Marshal(m.Metadata)
	if _, perr := b.cfg.Pool.Exec(ctx, `INSERT INTO bus.retries (handler, uuid, payload, metadata, attempts, due_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
		ON CONFLICT (handler, uuid) DO UPDATE SET attempts = EXCLUDED.attempts, due_at = EXCLUDED.due_at`,
		name, m.UUID, []byte(m.Payload), md, attempts, delay.Seconds()); perr != nil {
		return perr
	}
	b.retried.WithLabelValues(name).Inc()
	if !errors.Is(err, errSinkDown) {
		b.cfg.Log.Warn("delivery failed; trying again later", "handler", name, "message", m.UUID, "attempt", attempts,
			"in", delay.String(), "sink_unavailable", temporary, "err", err.Error())
	}
	return nil
}

func (b *Bus) poison(ctx context.Context, name string, m *message.Message, attempts int, err error) error {
	m.SetContext(ctx) // publishers write with the message's context; the attempt's may be over
	m.Metadata.Set(middleware.ReasonForPoisonedKey, err.Error())
	m.Metadata.Set(middleware.PoisonedTopicKey, name)
	m.Metadata.Set(middleware.PoisonedHandlerKey, name)
	if perr := b.poisonPub.Publish(PoisonTopic, m); perr != nil {
		return perr
	}
	b.poisoned.WithLabelValues(name).Inc()
	b.cfg.Log.Error("delivery failed for good; message moved to the poison queue", "handler", name, "message", m.UUID, "attempts", attempts, "err", err.Error())
	_, derr := b.cfg.Pool.Exec(ctx, `DELETE FROM bus.retries WHERE handler = $1 AND uuid = $2`, name, m.UUID)
	return derr
}

// backoff is the wait after the attempts-th failed attempt: RetryInterval,
// doubling, at most MaxRetryInterval.
func (b *Bus) backoff(attempts int) time.Duration {
	d := b.cfg.RetryInterval
	for i := 1; i < attempts && d < b.cfg.MaxRetryInterval; i++ {
		d *= 2
	}
	return min(d, b.cfg.MaxRetryInterval)
}

// PurgeDeliveries deletes the delivery records older than deliveriesKept
// and says how many. It is a scheduled job (bus-purge-deliveries), so with
// replicas it runs in the one process that leads the scheduler; running it
// twice deletes nothing twice.
func (b *Bus) PurgeDeliveries(ctx context.Context) (int64, error) {
	tag, err := b.cfg.Pool.Exec(ctx, `DELETE FROM bus.deliveries WHERE delivered_at < now() - make_interval(secs => $1)`, deliveriesKept.Seconds())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // the bus has not made its tables yet: nothing to purge
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// redeliver hands parked messages (new ones handed over by the subscriber,
// and failed ones) to their handlers when they fall due, until ctx ends. A claim is one short statement that moves the due
// time a lease ahead (other processes skip the row; a crash lets it fall due
// again); the attempt runs outside any transaction, so a slow or unreachable
// sink holds nothing open.
func (b *Bus) redeliver(ctx context.Context) {
	byName := map[string]Handler{}
	var names []string
	for _, h := range b.handlers {
		byName[h.Name] = h
		names = append(names, h.Name)
	}
	t := time.NewTicker(min(b.cfg.RetryInterval, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.handedOver: // a new message: deliver it now
		}
		for {
			n, err := b.redeliverDue(ctx, byName, names)
			if err != nil {
				if ctx.Err() == nil {
					b.cfg.Log.Error("redelivering parked messages", "err", err.Error())
				}
				break
			}
			if n < redeliverBatch {
				break
			}
		}
	}
}

type parked struct {
	Handler  string
	UUID     string
	Payload  []byte
	Metadata message.Metadata
	Attempts int
}

// redeliverDue makes one attempt at each due parked message (one batch) and
// answers how many it claimed.
func (b *Bus) redeliverDue(ctx context.Context, byName map[string]Handler, names []string) (int, error) {
	rows, err := b.cfg.Pool.Query(ctx, `UPDATE bus.retries r SET due_at = now() + make_interval(secs => $2)
		FROM (SELECT handler, uuid FROM bus.retries WHERE handler = ANY($1) AND due_at <= now()
		      ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) d
		WHERE r.handler = d.handler AND r.uuid = d.uuid
		RETURNING r.handler, r.uuid, r.payload, r.metadata, r.attempts`, names, lease.Seconds(), redeliverBatch)
	if err != nil {
		return 0, err
	}
	due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[parked])
	if err != nil {
		return 0, err
	}
	down := map[string]bool{} // sinks found unavailable in this batch
	for _, p := range due {
		m := message.NewMessage(p.UUID, p.Payload)
		if p.Metadata != nil {
			m.Metadata = p.Metadata
		}
		if down[p.Handler] {
			if err := b.failed(ctx, p.Handler, m, p.Attempts, errSinkDown); err != nil {
				return len(due), err
			}
			continue
		}
		actx, cancel := context.WithTimeout(ctx, deliveryTimeout)
		m.SetContext(actx)
		err := b.deliver(byName[p.Handler])(m)
		cancel()
		if ctx.Err() != nil {
			return len(due), ctx.Err() // shutting down: the row falls due again after the lease
		}
		if err == nil {
			if _, err := b.cfg.Pool.Exec(ctx, `DELETE FROM bus.retries WHERE handler = $1 AND uuid = $2`, p.Handler, p.UUID); err != nil {
				return len(due), err
			}
			continue
		}
		if Temporary(err) {
			down[p.Handler] = true
		}
		if err := b.failed(ctx, p.Handler, m, p.Attempts+1, err); err != nil {
			return len(due), err
		}
	}
	return len(due), nil
}
