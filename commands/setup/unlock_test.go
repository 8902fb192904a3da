package setup_test

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
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
