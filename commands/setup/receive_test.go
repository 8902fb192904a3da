package setup_test

import (
	"context"
	"errors"
	"testing"

	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/setup"
)

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
			want: []domain.Event{rejected(5), application.ReceptionLocked{ApplicationID: appID, At: now}}, wantErr: application.ErrReceptionLocked},
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
