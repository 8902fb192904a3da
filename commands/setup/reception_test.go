package setup_test

// The reception flow: receive (5 wrong passcodes lock), unlock, customer login.

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/setup"
)

// lockedHistory is an application whose reception five wrong passcodes locked.
func lockedHistory(id string) []domain.Event {
	c := completedAt(id, domaintest.At("2026-04-01T10:00"))
	h := []domain.Event{c}
	for n := 1; n <= application.MaxPasscodeFailures; n++ {
		h = append(h, application.PasscodeRejected{ApplicationID: c.ApplicationID, StoreID: "S001", StaffID: "ST01", ConsecutiveFailures: n, At: domaintest.At("2026-04-02T10:00")})
	}
	return append(h, application.ReceptionLocked{ApplicationID: c.ApplicationID, At: domaintest.At("2026-04-02T10:00")})
}

func TestUnlock(t *testing.T) {
	const id = "AP-UNLOCK1"
	appID := domaintest.Must(application.ParseID(id))
	now := domaintest.At("2026-04-03T09:00")
	tests := []struct {
		name     string
		given    []domain.Event
		expected int64
		want     []domain.Event
		wantErr  error
	}{
		{name: "locked_without_if_match_unlocks", given: lockedHistory(id), expected: -1,
			want: []domain.Event{application.ReceptionUnlocked{ApplicationID: appID, By: "op1", At: now}}},
		{name: "locked_at_the_version_read_unlocks", given: lockedHistory(id), expected: 7,
			want: []domain.Event{application.ReceptionUnlocked{ApplicationID: appID, By: "op1", At: now}}},
		{name: "stale_if_match_is_a_conflict", given: lockedHistory(id), expected: 6, wantErr: es.ErrWrongExpectedVersion},
		{name: "not_locked_is_refused", given: lockedHistory(id)[:1], expected: -1, wantErr: application.ErrNotLocked},
		{name: "unknown_application_is_not_found", expected: -1, wantErr: application.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.ApplicationStream(id), tt.given...)
			res, err := cmds.UnlockHandler{Streams: st, Clock: clock("2026-04-03T09:00")}.Handle(context.Background(),
				cmds.Unlock{ApplicationID: id, By: "op1", ExpectedVersion: tt.expected})
			got := st.appended[cmds.ApplicationStream(id)]
			if tt.wantErr == es.ErrWrongExpectedVersion {
				var wv *es.WrongVersionError
				if !errors.As(err, &wv) || wv.Actual != 7 || len(got) != 0 {
					t.Fatalf("err = %v, appended %v; want a wrong version naming 7 and nothing appended", err, got)
				}
				return
			}
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
			if err == nil && res.LastVersion != 8 {
				t.Fatalf("version = %d, want 8", res.LastVersion)
			}
		})
	}
}

func TestReceive(t *testing.T) {
	const id = "AP-RECV1"
	appID := domaintest.Must(application.ParseID(id))
	now := domaintest.At("2026-04-02T10:00")
	given := completedAt(id, domaintest.At("2026-04-01T10:00"))
	rejected := func(n int) domain.Event {
		return application.PasscodeRejected{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ConsecutiveFailures: n, At: now}
	}
	history := func(failures int) []domain.Event {
		h := []domain.Event{given}
		for n := 1; n <= failures; n++ {
			h = append(h, rejected(n))
		}
		return h
	}
	qr := domaintest.Must(application.NewQR(appID, "RIGHTPASS1")).Encode()
	tests := []struct {
		name      string
		given     []domain.Event
		creds     cmds.Credentials
		want      []domain.Event // on the application stream
		wantErr   error
		wantSetup bool
	}{
		{name: "right_passcode_receives_and_starts_the_setup", given: history(0), creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"},
			want: []domain.Event{application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: now, RetainUntil: domaintest.At("2031-04-01T10:00")}}, wantSetup: true},
		{name: "qr_payload_receives", given: history(0), creds: cmds.Credentials{QR: qr},
			want: []domain.Event{application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: now, RetainUntil: domaintest.At("2031-04-01T10:00")}}, wantSetup: true},
		{name: "unreadable_qr_is_invalid", given: history(0), creds: cmds.Credentials{QR: "nonsense"}, wantErr: application.ErrInvalidQR},
		{name: "wrong_passcode_is_counted", given: history(0), creds: cmds.Credentials{ApplicationID: id, Passcode: "WRONGPASS1"},
			want: []domain.Event{rejected(1)}, wantErr: application.ErrWrongPasscode},
		{name: "fifth_wrong_passcode_locks", given: history(4), creds: cmds.Credentials{ApplicationID: id, Passcode: "WRONGPASS1"},
			want: []domain.Event{rejected(5), application.ReceptionLocked{ApplicationID: appID, StoreID: "S001", At: now}}, wantErr: application.ErrReceptionLocked},
		{name: "locked_refuses_even_the_right_passcode", given: append(history(5), application.ReceptionLocked{ApplicationID: appID, At: now}),
			creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: application.ErrReceptionLocked},
		{name: "unknown_application_is_not_found", creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: application.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.ApplicationStream(id), tt.given...)
			out, err := cmds.ReceiveHandler{Streams: st, Clock: commandsClock(now), Hasher: verifier}.Handle(context.Background(),
				cmds.Receive{Credentials: tt.creds, StoreID: "S001", StaffID: "ST01"})
			domaintest.Then(t, st.appended[cmds.ApplicationStream(id)], err, tt.want, tt.wantErr)
			started := st.appended[cmds.SetupStream(out.SetupID)]
			if !tt.wantSetup {
				if out.SetupID != "" || len(st.appended) > 1 {
					t.Fatalf("a refused reception started a setup: %v", st.appended)
				}
				return
			}
			if s, ok := started[0].(setup.Started); len(started) != 1 || !ok || s.ApplicationID != id || s.StoreID != "S001" || out.ApplicationID != id || out.SetupVersion != 1 {
				t.Fatalf("setup %q: %#v, out %+v; want one Started of %s at S001", out.SetupID, started, out, id)
			}
		})
	}
}

// TestReceiveLostRaceIsAConflict: of two tablets receiving at once, the one
// whose append finds the application changed gets the store's wrong version.
func TestReceiveLostRaceIsAConflict(t *testing.T) {
	const id = "AP-RECV2"
	st := &racingStreams{fakeStreams: newStreams().given(cmds.ApplicationStream(id), completedAt(id, domaintest.At("2026-04-01T10:00")))}
	_, err := cmds.ReceiveHandler{Streams: st, Clock: commandsClock(domaintest.At("2026-04-02T10:00")), Hasher: verifier}.Handle(context.Background(),
		cmds.Receive{Credentials: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, StoreID: "S001", StaffID: "ST01"})
	if !errors.Is(err, errWrongVersion) {
		t.Fatalf("err = %v, want the wrong version", err)
	}
}

// The customer login has the reception's lock rule on a lock of its own;
// every refusal is the same error, and an unknown ID still costs a hash.
func TestCustomerLogin(t *testing.T) {
	const id = "AP-LOGIN1"
	c := completedAt(id, domaintest.At("2026-04-01T10:00"))
	now := domaintest.At("2026-04-02T10:00")
	expired := application.Expired{ApplicationID: c.ApplicationID, CompletedAt: c.CompletedAt, ExpiredAt: domaintest.At("2026-05-31T10:00")}
	rejected := func(n int) domain.Event {
		return application.PasscodeRejected{ApplicationID: c.ApplicationID, CustomerLogin: true, ConsecutiveFailures: n, At: now}
	}
	locked := []domain.Event{c, rejected(1), rejected(2), rejected(3), rejected(4), rejected(5), application.ReceptionLocked{ApplicationID: c.ApplicationID, CustomerLogin: true, At: now}}
	tests := []struct {
		name    string
		given   []domain.Event
		creds   cmds.Credentials
		want    []domain.Event
		wantErr error
	}{
		{name: "right_passcode", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}},
		{name: "qr_payload", given: []domain.Event{c}, creds: cmds.Credentials{QR: domaintest.Must(application.NewQR(c.ApplicationID, "RIGHTPASS1")).Encode()}},
		{name: "wrong_passcode_is_counted", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id, Passcode: "WRONGPASS1"},
			want: []domain.Event{rejected(1)}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "fifth_wrong_passcode_locks_the_login", given: locked[:5], creds: cmds.Credentials{ApplicationID: id, Passcode: "WRONGPASS1"},
			want: locked[5:], wantErr: cmds.ErrBadCustomerCredentials},
		{name: "locked_login_refuses_the_right_passcode", given: locked, creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "expired_application_says_the_same", given: []domain.Event{c, expired}, creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "unknown_application_says_the_same", creds: cmds.Credentials{ApplicationID: id, Passcode: "RIGHTPASS1"}, wantErr: cmds.ErrBadCustomerCredentials},
		{name: "missing_passcode_is_invalid", given: []domain.Event{c}, creds: cmds.Credentials{ApplicationID: id}, wantErr: application.ErrInvalidPasscode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.ApplicationStream(id), tt.given...)
			var hashed []string
			v := application.VerifyFunc(func(hash, attempt string) bool { hashed = append(hashed, hash); return verifier(hash, attempt) })
			got, err := cmds.CustomerLoginHandler{Streams: st, Clock: commandsClock(now), Hasher: v, DummyHash: "dummy"}.Handle(context.Background(), cmds.CustomerLogin{Credentials: tt.creds})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (got == id) {
				t.Fatalf("got %q, %v; want %v", got, err, tt.wantErr)
			}
			domaintest.Then(t, st.appended[cmds.ApplicationStream(id)], nil, tt.want, nil)
			if tt.name == "unknown_application_says_the_same" && (len(hashed) != 1 || hashed[0] != "dummy") {
				t.Fatalf("an unknown application hashed %v, want the dummy hash once", hashed)
			}
		})
	}
}
