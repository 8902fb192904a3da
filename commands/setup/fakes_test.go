package setup_test

import (
	"context"
	"errors"
	"time"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

// fakeStreams is an in-memory event store with the store's optimistic
// concurrency: an append at a version other than the stream's is a
// *es.WrongVersionError, and an AppendMany writes all parts or none.
type fakeStreams struct {
	streams map[string][]domain.Event
	// appended is every event appended since the last given, per stream:
	// the "then" of a test.
	appended map[string][]domain.Event
	// failLoad, when set, is returned by Load of that stream.
	failLoad map[string]error
}

func newStreams() *fakeStreams {
	return &fakeStreams{streams: map[string][]domain.Event{}, appended: map[string][]domain.Event{}, failLoad: map[string]error{}}
}

// given puts history on a stream (not counted as appended).
func (f *fakeStreams) given(stream string, evs ...domain.Event) *fakeStreams {
	f.streams[stream] = append(f.streams[stream], evs...)
	return f
}

func (f *fakeStreams) Load(_ context.Context, stream string, apply func(domain.Event)) (int64, error) {
	if err := f.failLoad[stream]; err != nil {
		return 0, err
	}
	for _, e := range f.streams[stream] {
		apply(e)
	}
	return int64(len(f.streams[stream])), nil
}

func (f *fakeStreams) check(stream string, expected int64) error {
	if actual := int64(len(f.streams[stream])); expected != int64(es.Any) && expected != actual {
		return &es.WrongVersionError{Stream: stream, Expected: es.ExpectedVersion(expected), Actual: actual}
	}
	return nil
}

func (f *fakeStreams) Append(_ context.Context, stream string, expected int64, evs ...domain.Event) (es.AppendResult, error) {
	if len(evs) == 0 {
		return es.AppendResult{StreamID: stream, LastVersion: expected}, nil
	}
	if err := f.check(stream, expected); err != nil {
		return es.AppendResult{}, err
	}
	f.streams[stream] = append(f.streams[stream], evs...)
	f.appended[stream] = append(f.appended[stream], evs...)
	return es.AppendResult{StreamID: stream, LastVersion: int64(len(f.streams[stream]))}, nil
}

// AppendInTx appends like Append and runs write first, as one
// transaction: a failing write appends nothing, a wrong version runs no
// write.
func (f *fakeStreams) AppendInTx(ctx context.Context, stream string, expected int64, write es.TxWrite, evs ...domain.Event) (es.AppendResult, error) {
	if err := f.check(stream, expected); err != nil {
		return es.AppendResult{}, err
	}
	if err := write(ctx, nil); err != nil {
		return es.AppendResult{}, err
	}
	return f.Append(ctx, stream, expected, evs...)
}

func (f *fakeStreams) AppendMany(ctx context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error) {
	for _, p := range parts {
		if err := f.check(p.Stream, p.Expected); err != nil {
			return nil, err
		}
	}
	var out []es.AppendResult
	for _, p := range parts {
		r, _ := f.Append(ctx, p.Stream, p.Expected, p.Events...)
		out = append(out, r)
	}
	return out, nil
}

// fakeShredder records the subjects whose keys were destroyed.
type fakeShredder struct{ shredded []string }

func (s *fakeShredder) Shred(_ context.Context, subject string) error {
	s.shredded = append(s.shredded, subject)
	return nil
}

// fakeDocuments records stored and deleted consent PDFs.
type fakeDocuments struct {
	stored  map[string][]byte
	deleted []string
	failPut error
}

// ConsentPDFWrite returns a write that stores the PDF when the append's
// transaction runs it (fakeStreams.AppendInTx).
func (d *fakeDocuments) ConsentPDFWrite(_ context.Context, consentID string, pdf []byte) (string, es.TxWrite, error) {
	write := func(context.Context, es.TxExec) error {
		if d.failPut != nil {
			return d.failPut
		}
		if d.stored == nil {
			d.stored = map[string][]byte{}
		}
		d.stored[consentID] = pdf
		return nil
	}
	return "ref:" + consentID, write, nil
}

func (d *fakeDocuments) DeleteConsentPDF(_ context.Context, consentID string) error {
	d.deleted = append(d.deleted, consentID)
	return nil
}

// passcode "right" matches hash "hash:right".
var verifier = application.VerifyFunc(func(hash, attempt string) bool { return hash == "hash:"+attempt })

var errStoreDown = errors.New("store down")

func clock(s string) *commands.ManualClock { return commands.NewManualClock(domaintest.At(s)) }

func completedAt(id string, at time.Time) application.Completed {
	appID := domaintest.Must(application.ParseID(id))
	return application.Completed{
		ApplicationID: appID,
		Details: domain.Seal(id, application.Details{
			Applicant:   application.Applicant{Name: "山田 太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Email: "taro@example.jp"},
			VehicleUser: "山田 太郎",
		}),
		Acceptances:  application.AllAccepted(),
		Units:        1,
		PasscodeHash: "hash:RIGHTPASS1",
		CompletedAt:  at,
	}
}

func commandsClock(t time.Time) *commands.ManualClock { return commands.NewManualClock(t) }

// racingStreams is a store where another writer appends to every stream
// between a command's Load and its Append.
type racingStreams struct{ *fakeStreams }

var errWrongVersion = es.ErrWrongExpectedVersion

func (r *racingStreams) Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error) {
	v, err := r.fakeStreams.Load(ctx, stream, apply)
	r.streams[stream] = append(r.streams[stream], application.ReceptionUnlocked{}) // the other writer's event
	return v, err
}
