// Package cards runs the commands of the corporate ETC card business:
// contracts, card issue/renewal/reissue/cancellation, renewal notices, usage
// import and the monthly billing run. One command per file; this file holds
// the ports they share and the stream names. Nothing here talks to
// PostgreSQL or parses files: the adapters behind these ports do
// (adapters/cardsdb, adapters/edi, adapters/lease, commands.Streams), and
// the commands' own tests use hand-written fakes of them.
package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Stream names. Durable: they are the stream IDs on disk.
func ContractStream(n contract.Number) string      { return "contract-" + n.String() }
func CardStream(n card.CardNumber) string          { return "card-" + n.String() }
func InvoiceStream(n billing.InvoiceNumber) string { return "invoice-" + n.String() }
func UsageFileStream(sha256hex string) string      { return "usage-file-" + sha256hex }

// VehicleStream is the vehicle's claim stream (card.VehicleClaim), keyed by
// the registration number without spaces, so "品川 300 あ 12-34" and
// "品川300あ12-34" are one vehicle.
func VehicleStream(v contract.VehicleNumber) string { return "vehicle-" + v.Key() }

// EventStreams loads and appends domain events (commands.Streams is the
// implementation: the codec over the event-store port).
type EventStreams interface {
	// Load replays stream into apply and returns its version (0: no stream).
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
	// LoadAfter replays the events after version (the tail of a state the
	// caller kept) and returns the stream's version.
	LoadAfter(ctx context.Context, stream string, version int64, apply func(domain.Event)) (int64, error)
	// Append appends to one stream at expected (es.Any, es.NoStream or a version).
	Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error)
	// AppendMany appends to several streams in one transaction: all or none.
	AppendMany(ctx context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error)
	// AppendInTx appends to one stream and runs write (rows the events
	// commit to) in the same transaction: both or neither.
	AppendInTx(ctx context.Context, stream string, expected int64, write es.TxWrite, events ...domain.Event) (es.AppendResult, error)
}

var _ EventStreams = commands.Streams{}

// LeaseLookup is the lease contract system (adapters/lease).
type LeaseLookup interface {
	Lookup(ctx context.Context, n contract.Number) (contract.Lease, error)
}

// CardNumbers allocates new card numbers (adapters/cardsdb.Numbers); concurrent
// callers never get the same one. A number is only taken for good when its
// card stream is started, so gaps are possible and harmless.
type CardNumbers interface {
	// Next returns a new number; with a commandID it returns the number
	// first given to that command, so a retried command appends to the same
	// card stream and the event store answers it with the first result.
	Next(ctx context.Context, commandID string) (card.CardNumber, error)
	// Given returns the number Next gave commandID, if any; it allocates
	// nothing.
	Given(ctx context.Context, commandID string) (card.CardNumber, bool, error)
}

// replayed answers a command that already committed: when the command ID
// was given a card number and that card's stream exists, the command's
// decision is in the log and it returns that card as its stream holds it
// (Duplicate set) instead of deciding again on the state it changed itself.
// A retry after a crash at any point before the commit finds no stream and
// decides anew.
func replayed(ctx context.Context, s EventStreams, numbers CardNumbers) (*card.Card, es.AppendResult, bool, error) {
	id := commands.MetadataFrom(ctx).CommandID
	if id == "" {
		return nil, es.AppendResult{}, false, nil
	}
	n, ok, err := numbers.Given(ctx, id)
	if err != nil || !ok {
		return nil, es.AppendResult{}, false, err
	}
	// The whole stream, the command's own events included (a keyed Load
	// would stop before them).
	c := new(card.Card)
	v, err := s.Load(commands.WithCommand(ctx, nil), CardStream(n), c.Apply)
	if err != nil || v == 0 {
		return nil, es.AppendResult{}, false, err
	}
	res := es.AppendResult{StreamID: CardStream(n), FirstVersion: 1, LastVersion: v, Duplicate: true}
	commands.Replay(ctx, res)
	return c, res, true, nil
}

// decided is the new card as a command's own events make it: what the
// command answers, without reading any view.
func decided(events []domain.Event) *card.Card {
	c := new(card.Card)
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

// DueCards finds the cards a scheduled job has to look at, from the card
// view (projections/cards.Reader). The job re-checks each card against its
// own stream before acting, so a lagging view delays work, never misdoes it.
type DueCards interface {
	// ExpiredInUse lists cards in use whose expiry month is before month.
	ExpiredInUse(ctx context.Context, before money.YearMonth) ([]card.CardNumber, error)
	// RenewalNoticeCandidates lists cards in use, without a recorded notice,
	// expiring by month.
	RenewalNoticeCandidates(ctx context.Context, by money.YearMonth) ([]card.CardNumber, error)
}

// NoExpectedVersion is the ExpectedVersion of a command sent without
// If-Match.
const NoExpectedVersion int64 = -1
