package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Position is a place in the global log. The zero Position is before the
// first event.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event.
var Start = Position{}

// Less reports whether p comes before q in the global log.
func (p Position) Less(q Position) bool {
	return p.Commit < q.Commit || (p.Commit == q.Commit && p.Prepare < q.Prepare)
}

// String renders "commit/prepare".
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition parses the form written by String.
func ParsePosition(s string) (Position, error) {
	c, pr, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want commit/prepare", s)
	}
	cv, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	pv, err := strconv.ParseUint(pr, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	return Position{cv, pv}, nil
}

// ExpectedVersion is the optimistic-concurrency condition of an append. A
// stream's version is the number of events in it; NoStream (0) expects an
// empty stream, a positive value exactly that many events, Any no condition.
type ExpectedVersion int64

const (
	Any      ExpectedVersion = -1
	NoStream ExpectedVersion = 0
)

// Actor says who caused an event.
type Actor struct {
	Role   string `json:"role,omitempty"`   // customer, staff, store_admin, finance, system…
	ID     string `json:"id,omitempty"`     // staff ID, application ID, "scheduler"…
	Store  string `json:"store,omitempty"`  // store ID when acting for a store
	Device string `json:"device,omitempty"` // tablet or PC ID
}

// Metadata travels with every event. It holds no personal data.
type Metadata struct {
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	CommandID     string `json:"command_id,omitempty"`
	Actor         Actor  `json:"actor"`
}

// EventData is an event to append. ID must be a UUIDv7 (NewEventID). Data
// is the event's JSON, already sealed by the Codec.
type EventData struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	Data          []byte
	// Keys are the data keys (wrapped) that Data is sealed under and that
	// the key table may not hold yet: a new data subject's first event
	// carries its new key. The store writes them in the append's own
	// transaction, so a key exists if and only if an event sealed under it
	// committed; if the subject already has another key, or was shredded,
	// the append fails with ErrKeyChanged and writes nothing.
	Keys []SubjectKey
}

// SubjectKey is a data subject's data key, wrapped by the key-encryption
// key, as the key table stores it.
type SubjectKey struct {
	Subject string
	Wrapped []byte
}

// ErrKeyChanged: an append carried a new data key for a subject that has
// another key by now (another process sealed its first event at the same
// time) or was shredded. Nothing was written; encoding the events again
// seals them under the stored key (or fails with ErrShredded).
var ErrKeyChanged = errors.New("eventstore: the data subject's key changed while the events were sealed")

// KeyChangedError names the subjects of an ErrKeyChanged.
type KeyChangedError struct{ Subjects []string }

func (e *KeyChangedError) Error() string {
	return fmt.Sprintf("%v: %v", ErrKeyChanged, e.Subjects)
}

func (e *KeyChangedError) Unwrap() error { return ErrKeyChanged }

// KeysOf lists the keys carried by events, each subject once.
func KeysOf(events ...EventData) []SubjectKey {
	var out []SubjectKey
	seen := map[string]bool{}
	for _, e := range events {
		for _, k := range e.Keys {
			if !seen[k.Subject] {
				seen[k.Subject] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID            uuid.UUID
	StreamID      string
	Version       int64 // 1 for the first event of a stream
	Position      Position
	Type          string
	SchemaVersion int
	Data          []byte // JSON, personal data sealed
	Metadata      Metadata
	RawMetadata   []byte // Metadata exactly as stored (hashed)
	RecordedAt    time.Time
	Hash          []byte // SHA-256(previous hash ‖ Canonical(event))
}

// AppendResult is what an append did (or, for a repeated command ID, what the
// first append did).
type AppendResult struct {
	StreamID     string
	FirstVersion int64
	LastVersion  int64 // the stream's version after the append
	Position     Position
	Duplicate    bool // the command ID had been appended before; nothing was written now
}

// StreamAppend is one stream's part of an AppendMany.
type StreamAppend struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
}

// Direction of a stream read.
type Direction int

const (
	Forwards Direction = iota
	Backwards
)

// Store is the event-store port.
//
// Append writes events atomically at the end of one stream if the stream's
// version matches expected; otherwise it returns a *WrongVersionError and
// writes nothing. When md.CommandID is set and was appended before, Append
// writes nothing and returns the original result with Duplicate set, so a
// re-sent command is harmless.
//
// AppendMany appends to several streams in one transaction: all of them or
// none. The first wrong expected version fails the whole call with its
// *WrongVersionError. With md.CommandID set, a re-sent call writes nothing
// and returns the first results with Duplicate set. Use it where one
// decision spans two aggregates (a proxy consent's unit and the application
// filed under it), not to batch unrelated appends.
//
// ReadStream returns up to max events from version from (inclusive) in the
// given direction; Backwards from 0 means from the end.
//
// ReadAll returns up to max committed events strictly after from, in global
// order; it never returns an event while an earlier one could still appear.
//
// Subscribe delivers the global log from after `from` in batches, forever,
// with the same guarantee, until ctx ends.
//
// Head returns the position of the last committed event. A reader reaches it
// once every transaction that started before it has ended, so waiting for
// Head after a write gives read-your-writes.
type Store interface {
	Append(ctx context.Context, stream string, expected ExpectedVersion, md Metadata, events ...EventData) (AppendResult, error)
	AppendMany(ctx context.Context, md Metadata, appends ...StreamAppend) ([]AppendResult, error)
	ReadStream(ctx context.Context, stream string, dir Direction, from int64, max int) ([]RecordedEvent, error)
	ReadAll(ctx context.Context, from Position, max int) ([]RecordedEvent, error)
	Subscribe(ctx context.Context, from Position) Subscription
	Head(ctx context.Context) (Position, error)
}

// TxWrite is a side write that must commit in an append's transaction (a
// document an event references): all of it with the events, or none. It
// runs on the store's transaction through TxExec. Only a store that
// implements TxAppender can run it.
type TxWrite func(ctx context.Context, tx TxExec) error

// TxExec is the part of the store's transaction a TxWrite may use: SQL
// statements on the event store's database.
type TxExec interface {
	Exec(ctx context.Context, sql string, args ...any) error
}

// TxAppender is implemented by a store that can run a TxWrite inside an
// append's transaction (adapters/postgres).
//
// AppendManyInTx appends like AppendMany and runs write in the same
// transaction: the rows it writes commit with the events or not at all. A
// wrong expected version or an error from write keeps nothing; a re-sent
// command (Duplicate) keeps no second write, since the first committed with
// its events. adapters/postgres builds it on Store.AppendWithin, the one
// way a decision writes rows beside the log.
type TxAppender interface {
	AppendManyInTx(ctx context.Context, md Metadata, write TxWrite, appends ...StreamAppend) ([]AppendResult, error)
}

// ErrNoTxWrite: the store cannot run a side write in an append's
// transaction (it does not implement TxAppender).
var ErrNoTxWrite = errors.New("eventstore: this store cannot write a document in an append's transaction")

// Subscription yields batches of the global log in order.
type Subscription interface {
	// Next blocks until at least one event after the last batch is committed
	// and readable, then returns up to the adapter's batch size of them.
	Next(ctx context.Context) ([]RecordedEvent, error)
	// Reset moves the subscription to just after p.
	Reset(p Position)
}

// Errors of the port. Adapters translate driver errors into these.
var (
	// ErrWrongExpectedVersion: the stream changed since it was read.
	ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")
	// ErrUnavailable: the store cannot be reached now; retrying later may work.
	ErrUnavailable = errors.New("eventstore: store unavailable")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
)

// MaxEventSize is the most JSON data one stored event should hold (64 KiB).
// Events stay small: bulk detail (invoice lines, files) lives beside the log
// and is referenced from it. An adapter configured with a limit refuses a
// bigger event (the conformance suite checks it at this size). Gantry does
// not switch the limit on yet: invoice.issued still embeds its lines.
const MaxEventSize = 64 << 10

// ErrEventTooLarge: an event's data is over MaxEventSize; nothing was written.
var ErrEventTooLarge = errors.New("eventstore: event too large")

// EventTooLargeError names the oversize event with ErrEventTooLarge.
type EventTooLargeError struct {
	Stream string
	Type   string
	Size   int
	Limit  int
}

func (e *EventTooLargeError) Error() string {
	return fmt.Sprintf("eventstore: event %s on stream %q holds %d bytes of data, more than the %d allowed; nothing was written", e.Type, e.Stream, e.Size, e.Limit)
}

func (e *EventTooLargeError) Unwrap() error { return ErrEventTooLarge }

// CheckSizes returns an *EventTooLargeError for the first of events whose
// data is over limit bytes (no limit when limit ≤ 0). Adapters call it
// before writing anything.
func CheckSizes(stream string, events []EventData, limit int) error {
	if limit <= 0 {
		return nil
	}
	for _, e := range events {
		if len(e.Data) > limit {
			return &EventTooLargeError{Stream: stream, Type: e.Type, Size: len(e.Data), Limit: limit}
		}
	}
	return nil
}

// WrongVersionError carries the stream's actual version with
// ErrWrongExpectedVersion.
type WrongVersionError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   int64
}

func (e *WrongVersionError) Error() string {
	return fmt.Sprintf("eventstore: stream %q is at version %d, expected %d", e.Stream, e.Actual, e.Expected)
}

func (e *WrongVersionError) Unwrap() error { return ErrWrongExpectedVersion }

// NewEventID returns a new UUIDv7 (time-ordered) event ID.
func NewEventID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil { // only when the system random source fails
		panic(err)
	}
	return id
}
