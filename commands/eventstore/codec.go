package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gantry-etc/gantry/domain"
)

// Upcaster turns the JSON of an event at schema version From into version
// From+1.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

type typeEntry struct {
	version   int
	new       func() domain.Event
	upcasters map[int]Upcaster // from version → next
}

// Registry knows every event type: its current schema version, how to make
// an empty value to decode into, and its upcasters. It is filled once at
// wiring time (cmd/) and read-only afterwards.
type Registry struct {
	types map[string]*typeEntry
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*typeEntry{}} }

// Register adds an event type at its current schema version. newEvent
// returns a pointer to a zero event value. Registering a type twice panics:
// it is a wiring bug.
func Register[E domain.Event](r *Registry, version int) {
	var zero E
	typ := zero.EventType()
	if _, dup := r.types[typ]; dup {
		panic("eventstore: event type registered twice: " + typ)
	}
	if version < 1 {
		panic("eventstore: schema version must be ≥ 1: " + typ)
	}
	r.types[typ] = &typeEntry{version: version, new: func() domain.Event { var e E; return e }, upcasters: map[int]Upcaster{}}
}

// Upcast registers the step from schema version `from` to from+1 of typ.
func (r *Registry) Upcast(typ string, from int, fn Upcaster) {
	t, ok := r.types[typ]
	if !ok {
		panic("eventstore: upcaster for unregistered type " + typ)
	}
	t.upcasters[from] = fn
}

// Types lists the registered event types.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.types))
	for t := range r.types {
		out = append(out, t)
	}
	return out
}

// DecodeError says which stored event could not be read and why. Replays stop
// at it rather than guess.
type DecodeError struct {
	Stream  string
	Version int64
	Type    string
	Err     error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("event %s@%d (type %q) cannot be decoded: %v", e.Stream, e.Version, e.Type, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Event is a recorded event with its decoded domain payload.
type Event struct {
	RecordedEvent
	Payload domain.Event
}

// Codec encodes domain events for the store (JSON, personal data sealed) and
// decodes stored ones (upcast to the current schema, unsealed; shredded
// personal data comes back Erased).
type Codec struct {
	reg    *Registry
	sealer *Sealer
}

// NewCodec returns a Codec.
func NewCodec(reg *Registry, sealer *Sealer) *Codec { return &Codec{reg: reg, sealer: sealer} }

// Sealer returns the codec's sealer (for shredding).
func (c *Codec) Sealer() *Sealer { return c.sealer }

// Encode turns domain events into EventData with new UUIDv7 IDs.
func (c *Codec) Encode(ctx context.Context, events ...domain.Event) ([]EventData, error) {
	out := make([]EventData, 0, len(events))
	for _, e := range events {
		typ := e.EventType()
		t, ok := c.reg.types[typ]
		if !ok {
			return nil, fmt.Errorf("eventstore: event type %q is not registered", typ)
		}
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("eventstore: encoding %s: %w", typ, err)
		}
		var keys []SubjectKey
		if data, keys, err = c.sealer.SealJSON(ctx, data); err != nil {
			return nil, fmt.Errorf("eventstore: encoding %s: %w", typ, err)
		}
		out = append(out, EventData{ID: NewEventID(), Type: typ, SchemaVersion: t.version, Data: data, Keys: keys})
	}
	return out, nil
}

// Committed tells the codec that events it encoded were appended: the new
// data keys they carried are in the key table now, and later events sealed
// under them need not carry them.
func (c *Codec) Committed(events ...EventData) { c.sealer.Stored(KeysOf(events...)) }

// Decode returns the domain event of a recorded one, or a *DecodeError.
func (c *Codec) Decode(ctx context.Context, r RecordedEvent) (domain.Event, error) {
	return c.decode(ctx, nil, r)
}

func (c *Codec) decode(ctx context.Context, ks *KeyScope, r RecordedEvent) (domain.Event, error) {
	t, data, err := c.upcast(r)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		return &DecodeError{Stream: r.StreamID, Version: r.Version, Type: r.Type, Err: err}
	}
	plain, err := c.sealer.OpenJSONIn(ctx, ks, data)
	if errors.Is(err, ErrUnavailable) {
		return nil, err // the key table could not be read now: not the event's fault
	}
	if err != nil {
		return nil, fail(err)
	}
	return c.finish(t, r, plain)
}

func (c *Codec) decodeWithheld(r RecordedEvent) (domain.Event, error) {
	t, data, err := c.upcast(r)
	if err != nil {
		return nil, err
	}
	plain, err := WithholdJSON(data)
	if err != nil {
		return nil, &DecodeError{Stream: r.StreamID, Version: r.Version, Type: r.Type, Err: err}
	}
	return c.finish(t, r, plain)
}

// finish decodes the opened (or withheld) JSON into t's event type.
func (c *Codec) finish(t *typeEntry, r RecordedEvent, plain []byte) (domain.Event, error) {
	e := t.new()
	ptr, err := decodeInto(e, plain)
	if err != nil {
		return nil, &DecodeError{Stream: r.StreamID, Version: r.Version, Type: r.Type, Err: err}
	}
	return ptr, nil
}

// upcast finds r's type and brings its JSON to the current schema version.
func (c *Codec) upcast(r RecordedEvent) (*typeEntry, json.RawMessage, error) {
	fail := func(err error) error {
		return &DecodeError{Stream: r.StreamID, Version: r.Version, Type: r.Type, Err: err}
	}
	t, ok := c.reg.types[r.Type]
	if !ok {
		return nil, nil, fail(fmt.Errorf("unknown event type"))
	}
	if r.SchemaVersion > t.version {
		return nil, nil, fail(fmt.Errorf("schema version %d is newer than this build knows (%d)", r.SchemaVersion, t.version))
	}
	data := json.RawMessage(r.Data)
	for v := r.SchemaVersion; v < t.version; v++ {
		up, ok := t.upcasters[v]
		if !ok {
			return nil, nil, fail(fmt.Errorf("no upcaster from schema version %d", v))
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, nil, fail(fmt.Errorf("upcasting from version %d: %w", v, err))
		}
	}
	return t, data, nil
}

// DecodeAll decodes a batch, stopping at the first failure. The data keys of
// the whole batch are read in one round trip, and kept for this batch only.
func (c *Codec) DecodeAll(ctx context.Context, rs []RecordedEvent) ([]Event, error) {
	datas := make([][]byte, len(rs))
	for i, r := range rs {
		datas[i] = r.Data
	}
	ks, err := c.sealer.Scope(ctx, datas...)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rs))
	for i, r := range rs {
		p, err := c.decode(ctx, ks, r)
		if err != nil {
			return nil, err
		}
		out[i] = Event{RecordedEvent: r, Payload: p}
	}
	return out, nil
}

// DecodeAllWithheld decodes a batch for a reader that never uses personal
// data: sealed values are not opened but withheld (WithholdJSON), so every
// domain.Personal comes back as its zero value (empty subject and value, not
// erased). No key is read and nothing is decrypted, so a shred can never be
// missed: no plaintext exists to be served. Upcasters run as in Decode.
func (c *Codec) DecodeAllWithheld(rs []RecordedEvent) ([]Event, error) {
	out := make([]Event, len(rs))
	for i, r := range rs {
		p, err := c.decodeWithheld(r)
		if err != nil {
			return nil, err
		}
		out[i] = Event{RecordedEvent: r, Payload: p}
	}
	return out, nil
}
