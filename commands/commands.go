// Package commands runs commands: load an aggregate from its stream, let it
// decide, append what it decided with optimistic concurrency. Each feature
// keeps one command per file in a sub-package (commands/setup,
// commands/cards…), built on the helpers here.
package commands

import (
	"context"
	"errors"
	"time"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

// Clock is where commands get `now`. The service uses SystemClock; tests move
// a ManualClock to test 60-day and 5-year rules.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock in Japan time.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().In(domain.Tokyo) }

type metaKey struct{}

// WithMetadata attaches who/why metadata (actor, correlation, command ID) to
// ctx; the API sets it per request, the scheduler per job.
func WithMetadata(ctx context.Context, md es.Metadata) context.Context {
	return context.WithValue(ctx, metaKey{}, md)
}

// MetadataFrom returns the metadata attached to ctx.
func MetadataFrom(ctx context.Context) es.Metadata {
	md, _ := ctx.Value(metaKey{}).(es.Metadata)
	return md
}

// Streams loads and appends domain events through the codec.
type Streams struct {
	Store es.Store
	Codec *es.Codec
}

// ErrKeyReused: an Idempotency-Key already carried another request.
var ErrKeyReused = domain.Invalid("idempotency_key_reused", "This Idempotency-Key was used for a different request; use a new key for a new request.")

// Load replays stream into apply and returns the stream's version (0 when
// the stream does not exist).
//
// When ctx carries a keyed command that already appended to stream, Load
// stops before that command's first event: the command decides again on
// the state it first saw, and its append comes back Duplicate. An event of
// the same key with another request is ErrKeyReused.
func (s Streams) Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error) {
	return s.load(ctx, stream, 0, apply, s.Codec.Decode)
}

// LoadAfter replays the events of stream after version into apply, like
// Load, and returns the stream's version (version itself when no event
// follows it): the tail of a stream whose state up to version the caller
// kept.
func (s Streams) LoadAfter(ctx context.Context, stream string, version int64, apply func(domain.Event)) (int64, error) {
	return s.load(ctx, stream, version, apply, s.Codec.Decode)
}

// LoadWithheld is Load with personal data withheld (es.Codec.DecodeWithheld):
// sealed values reach apply as zero values, and no data key is read (reads
// of a status).
func (s Streams) LoadWithheld(ctx context.Context, stream string, apply func(domain.Event)) (int64, error) {
	return s.load(ctx, stream, 0, apply, func(_ context.Context, r es.RecordedEvent) (domain.Event, error) { return s.Codec.DecodeWithheld(r) })
}

func (s Streams) load(ctx context.Context, stream string, version int64, apply func(domain.Event), decode func(context.Context, es.RecordedEvent) (domain.Event, error)) (int64, error) {
	cmd := CommandFrom(ctx)
	keyed := cmd.keyed()
	for from := version + 1; ; {
		evs, err := s.Store.ReadStream(ctx, stream, es.Forwards, from, 500)
		if err != nil {
			return 0, err
		}
		for _, r := range evs {
			if keyed && r.Metadata.CommandID != "" {
				if cmd.owns(stream, r.Metadata.CommandID) {
					return version, nil
				}
				if cmd.sameScope(r.Metadata.CommandID) {
					return 0, ErrKeyReused
				}
			}
			e, err := decode(ctx, r)
			if err != nil {
				return 0, err
			}
			apply(e)
			version = r.Version
		}
		if len(evs) < 500 {
			return version, nil
		}
		from = version + 1
	}
}

// Append encodes and appends events at expected, with the metadata from ctx.
// Appending nothing is a no-op that reports the expected version.
func (s Streams) Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error) {
	if len(events) == 0 {
		return es.AppendResult{StreamID: stream, LastVersion: expected}, nil
	}
	md := MetadataFrom(ctx)
	cmd := CommandFrom(ctx)
	if cmd.keyed() {
		md.CommandID = cmd.recordID(stream)
	}
	var (
		res  es.AppendResult
		data []es.EventData
		err  error
	)
	for attempt := 0; ; attempt++ {
		if data, err = s.Codec.Encode(ctx, events...); err != nil {
			return es.AppendResult{}, err
		}
		res, err = s.Store.Append(ctx, stream, es.ExpectedVersion(expected), md, data...)
		if !s.resealed(err, attempt) {
			break
		}
	}
	if err != nil {
		return res, s.reused(ctx, cmd, stream, expected, err)
	}
	s.Codec.Committed(data...)
	if cmd != nil {
		cmd.appended(res)
	}
	return res, nil
}

// resealed reports whether an append that failed with es.ErrKeyChanged
// (another process stored a data subject's first key at the same time) is
// worth encoding again: once, after forgetting the subjects' cached keys,
// so that the events are sealed under the stored key.
func (s Streams) resealed(err error, attempt int) bool {
	var kc *es.KeyChangedError
	if attempt > 0 || !errors.As(err, &kc) {
		return false
	}
	s.Codec.Sealer().Forget(kc.Subjects...)
	return true
}

// reused turns the version conflict of a keyed command whose key already
// wrote the conflicting event (with another request) into ErrKeyReused.
func (s Streams) reused(ctx context.Context, cmd *Command, stream string, expected int64, err error) error {
	if !cmd.keyed() || !errors.Is(err, es.ErrWrongExpectedVersion) || expected < 0 {
		return err
	}
	evs, rerr := s.Store.ReadStream(ctx, stream, es.Forwards, expected+1, 1)
	if rerr == nil && len(evs) == 1 && cmd.sameScope(evs[0].Metadata.CommandID) {
		return ErrKeyReused
	}
	return err
}

// StreamEvents is one stream's part of AppendMany.
type StreamEvents struct {
	Stream   string
	Expected int64
	Events   []domain.Event
}

// AppendMany encodes and appends to several streams in one transaction (all
// or none), with the metadata from ctx. Parts without events are left out.
func (s Streams) AppendMany(ctx context.Context, parts ...StreamEvents) ([]es.AppendResult, error) {
	md := MetadataFrom(ctx)
	cmd := CommandFrom(ctx)
	if cmd.keyed() {
		md.CommandID = cmd.id() // the store records ID@stream for each part
	}
	var (
		appends []es.StreamAppend
		res     []es.AppendResult
		err     error
	)
	for attempt := 0; ; attempt++ {
		appends = make([]es.StreamAppend, 0, len(parts))
		for _, p := range parts {
			if len(p.Events) == 0 {
				continue
			}
			data, err := s.Codec.Encode(ctx, p.Events...)
			if err != nil {
				return nil, err
			}
			appends = append(appends, es.StreamAppend{Stream: p.Stream, Expected: es.ExpectedVersion(p.Expected), Events: data})
		}
		if len(appends) == 0 {
			return nil, nil
		}
		res, err = s.Store.AppendMany(ctx, md, appends...)
		if !s.resealed(err, attempt) {
			break
		}
	}
	for _, a := range appends {
		if err == nil {
			s.Codec.Committed(a.Events...)
		}
	}
	if err != nil {
		if len(parts) > 0 {
			err = s.reused(ctx, cmd, appends[0].Stream, int64(appends[0].Expected), err)
		}
		return nil, err
	}
	if cmd != nil {
		for _, r := range res {
			cmd.appended(r)
		}
	}
	return res, nil
}

// AppendInTx appends events to one stream like Append and runs write (a
// document the events reference) in the same transaction: both commit or
// neither does (es.TxAppender). A store without that ability refuses with
// es.ErrNoTxWrite and writes nothing.
func (s Streams) AppendInTx(ctx context.Context, stream string, expected int64, write es.TxWrite, events ...domain.Event) (es.AppendResult, error) {
	ta, ok := s.Store.(es.TxAppender)
	if !ok {
		return es.AppendResult{}, es.ErrNoTxWrite
	}
	if len(events) == 0 {
		return es.AppendResult{}, errors.New("commands: a side write needs an event to commit with")
	}
	data, err := s.Codec.Encode(ctx, events...)
	if err != nil {
		return es.AppendResult{}, err
	}
	md := MetadataFrom(ctx)
	cmd := CommandFrom(ctx)
	if cmd.keyed() {
		md.CommandID = cmd.id() // the store records ID@stream, as AppendMany does
	}
	res, err := ta.AppendManyInTx(ctx, md, write, es.StreamAppend{Stream: stream, Expected: es.ExpectedVersion(expected), Events: data})
	if err != nil {
		return es.AppendResult{}, s.reused(ctx, cmd, stream, expected, err)
	}
	if cmd != nil {
		cmd.appended(res[0])
	}
	return res[0], nil
}

// ErrPrecondition: the caller's If-Match version is not the stream's version.
var ErrPrecondition = errors.New("commands: the resource changed since you read it")

// CheckIfMatch returns a *es.WrongVersionError when the client sent an
// expected version (ifMatch ≥ 0) that differs from the loaded one.
func CheckIfMatch(stream string, ifMatch, loaded int64) error {
	if ifMatch >= 0 && ifMatch != loaded {
		return &es.WrongVersionError{Stream: stream, Expected: es.ExpectedVersion(ifMatch), Actual: loaded}
	}
	return nil
}
