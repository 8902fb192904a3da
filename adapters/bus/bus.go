// Package bus delivers integration messages (mails, EDI files, notices)
// produced from committed events, through watermill.
//
// The outbox is a projector: for every committed event some Handler wants, it
// publishes a message in the same transaction that moves its checkpoint
// (watermill-sql on the same PostgreSQL, the default), so a message exists
// if and only if its event committed, exactly once. On NATS JetStream the
// publish happens before the checkpoint commits and carries a stable
// Nats-Msg-Id, so a crash in between re-publishes a duplicate that JetStream
// drops. Messages carry only a reference to the event (stream, version), never
// its personal data; the handler reads and unseals the event when it
// delivers, so shredding a subject also silences its undelivered mail.
//
// Delivery runs in a watermill router with correlation-id middleware; a
// message is delivered at least once, with a stable message ID (UUIDv5 of
// event ID and handler name) for sinks to de-duplicate. The router never
// talks to a sink: each message is handed over to bus.retries (due now) and
// acknowledged at once, and a delivery loop delivers it outside any
// transaction (a subscriber on the SQL backend holds one while a message is
// in flight, which keeps back the event store's readable horizon: waiting
// on a sink there would stall every projection). A delivery that fails stays
// there and is tried again with exponential backoff.
// While a sink is unavailable (Temporary errors: the SMTP server is down) its
// messages wait as long as it takes and nothing is lost; other failures go
// to the poison queue after MaxRetries attempts.
package bus

import (
	"context"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Handler delivers events of some types to one sink. Name is durable: it
// names the topic and consumer group, so renaming it re-delivers or skips.
// Handle must be idempotent for the same event (delivery is at least once).
type Handler struct {
	Name   string
	Types  []string
	Handle func(ctx context.Context, ev es.Event) error
}
