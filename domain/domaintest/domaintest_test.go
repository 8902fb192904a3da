package domaintest_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

// fakeTB records a failure and stops its goroutine, as testing.T does.
type fakeTB struct {
	testing.TB // satisfies the unexported method; never called
	failed     bool
	msg        string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls check with a fakeTB on a goroutine of its own, as t.Run would.
func run(check func(testing.TB)) *fakeTB {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(tb)
	}()
	<-done
	return tb
}

type happened struct{ N int }

func (happened) EventType() string { return "test.happened" }

var (
	errRule  = domain.Conflict("rule_broken", "The rule is broken.")
	errPlain = errors.New("plain")
)

func TestThen(t *testing.T) {
	one := []domain.Event{happened{1}}
	tests := []struct {
		name     string
		got      []domain.Event
		err      error
		want     []domain.Event
		wantErr  error
		wantFail bool
	}{
		{name: "same_events", got: one, want: []domain.Event{happened{1}}},
		{name: "nil_and_empty_are_the_same", got: []domain.Event{}, want: nil},
		{name: "other_events", got: one, want: []domain.Event{happened{2}}, wantFail: true},
		{name: "missing_events", want: one, wantFail: true},
		{name: "unexpected_error", got: one, err: errRule, want: one, wantFail: true},
		{name: "wanted_error_and_events", got: one, err: errRule, want: one, wantErr: errRule},
		{name: "wrapped_error_with_field", err: fmt.Errorf("deciding: %w", errRule.With("x", "")), wantErr: errRule},
		{name: "wanted_error_missing", wantErr: errRule, wantFail: true},
		{name: "other_error", err: domain.Conflict("other", "Other."), wantErr: errRule, wantFail: true},
		{name: "error_not_domain_error", err: fmt.Errorf("x: %w", errPlain), wantErr: errPlain, wantFail: true},
		{name: "domain_error_without_detail", err: &domain.Error{Kind: domain.KindConflict, Code: "rule_broken"}, wantErr: errRule, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := run(func(tb testing.TB) { domaintest.Then(tb, tt.got, tt.err, tt.want, tt.wantErr) })
			if tb.failed != tt.wantFail {
				t.Fatalf("failed = %v (%q), want %v", tb.failed, tb.msg, tt.wantFail)
			}
		})
	}
}

func TestThenErrReportsWhetherAnErrorWasWanted(t *testing.T) {
	var wanted, unwanted bool
	if tb := run(func(tb testing.TB) { wanted = domaintest.ThenErr(tb, errRule, errRule) }); tb.failed || !wanted {
		t.Errorf("wanted error: failed %v (%q), returned %v", tb.failed, tb.msg, wanted)
	}
	if tb := run(func(tb testing.TB) { unwanted = domaintest.ThenErr(tb, nil, nil) }); tb.failed || unwanted {
		t.Errorf("no error: failed %v (%q), returned %v", tb.failed, tb.msg, unwanted)
	}
}

func TestRoundTripReturnsDecodedEvents(t *testing.T) {
	back := domaintest.RoundTripExact(t, []domain.Event{happened{1}, happened{2}}, []string{"test.happened"})
	if len(back) != 2 || back[0] != (happened{1}) || back[1] != (happened{2}) {
		t.Fatalf("decoded %v", back)
	}
}

func TestFixtures(t *testing.T) {
	if d := domaintest.Date("2026-11-30"); d != (domain.Date{Year: 2026, Month: 11, Day: 30}) {
		t.Errorf("Date = %v", d)
	}
	if at := domaintest.At("2026-04-01T10:00"); at.Location() != domain.Tokyo || at.Hour() != 10 {
		t.Errorf("At = %v", at)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Must did not panic on an error")
		}
	}()
	domaintest.Must(0, errPlain)
}
