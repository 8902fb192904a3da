// Package domaintest holds what the domain packages' tests share: the "then"
// of a given/when/then case (events or a business-rule error), a JSON round
// trip over every event type, and panicking constructors for fixtures.
//
// It is imported only by _test files; like the rest of domain/ it uses only
// the standard library.
package domaintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Then checks the outcome of a command. With wantErr set, err must match it
// (errors.Is) and be a *domain.Error with a Detail a person can act on;
// without, err must be nil. Then got must equal want (reflect.DeepEqual),
// a nil and an empty list counting as the same. A mismatch stops the test.
func Then(t testing.TB, got []domain.Event, err error, want []domain.Event, wantErr error) {
	t.Helper()
	ThenErr(t, err, wantErr)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %#v\nwant %#v", got, want)
	}
}

// ThenErr checks err alone, as Then does, and reports whether an error was
// wanted, so that a table case can stop there:
//
//	if domaintest.ThenErr(t, err, tt.wantErr) {
//		return
//	}
//
// A mismatch stops the test.
func ThenErr(t testing.TB, err, wantErr error) bool {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return false
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("error = %v, want %v", err, wantErr)
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Detail == "" {
		t.Fatalf("error %v is not a *domain.Error with a detail", err)
	}
	return true
}

// RoundTrip checks that events survive the event store's JSON: each is
// encoded, decoded into a new value of its Go type and encoded again; the two
// encodings must be byte-identical and the event type unchanged. Each event is
// a subtest named after its type. Every name in types must have at least one
// event, so that a new event type cannot go without a case.
//
// RoundTrip returns the decoded events in the order given, for checks of its
// caller; an entry is nil where its subtest failed.
func RoundTrip(t *testing.T, events []domain.Event, types []string) []domain.Event {
	t.Helper()
	return roundTrip(t, events, types, false)
}

// RoundTripExact is RoundTrip that also requires each decoded event to equal
// the original (reflect.DeepEqual). It suits events without time.Time fields:
// a time decoded from JSON carries an unnamed zone, not domain.Tokyo.
func RoundTripExact(t *testing.T, events []domain.Event, types []string) []domain.Event {
	t.Helper()
	return roundTrip(t, events, types, true)
}

func roundTrip(t *testing.T, events []domain.Event, types []string, exact bool) []domain.Event {
	t.Helper()
	decoded := make([]domain.Event, len(events))
	seen := map[string]bool{}
	for i, e := range events {
		seen[e.EventType()] = true
		t.Run(strings.ReplaceAll(e.EventType(), ".", "_"), func(t *testing.T) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			ptr := reflect.New(reflect.TypeOf(e))
			if err := json.Unmarshal(b, ptr.Interface()); err != nil {
				t.Fatal(err)
			}
			back := ptr.Elem().Interface().(domain.Event)
			b2, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatalf("round trip differs:\n%s\n%s", b, b2)
			}
			if back.EventType() != e.EventType() {
				t.Fatalf("type %q", back.EventType())
			}
			if exact && !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip changed the event:\n%+v\n%+v\n%s", e, back, b)
			}
			decoded[i] = back
		})
	}
	for _, name := range types {
		if !seen[name] {
			t.Errorf("no round-trip case for %s", name)
		}
	}
	return decoded
}

// At parses "2006-01-02T15:04" as Japan time and panics on a malformed
// instant: it is for fixtures written in the test.
func At(s string) time.Time {
	return Must(time.ParseInLocation("2006-01-02T15:04", s, domain.Tokyo))
}

// Date parses "2006-01-02" as a Japan-time day and panics on a malformed
// one: it is for fixtures written in the test.
func Date(s string) domain.Date {
	return Must(domain.ParseDate(s))
}

// Must returns v and panics if err is not nil: it is for fixtures built with
// validating constructors, where an error is a mistake in the test.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
