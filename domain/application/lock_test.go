package application_test

import (
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func rejectedAt(store string, n int) application.PasscodeRejected {
	return application.PasscodeRejected{ApplicationID: appID, StoreID: store, StaffID: "ST-" + store, ConsecutiveFailures: n, At: completedAt.Add(time.Hour)}
}

func loginRejected(n int) application.PasscodeRejected {
	return application.PasscodeRejected{ApplicationID: appID, CustomerLogin: true, ConsecutiveFailures: n, At: completedAt.Add(time.Hour)}
}

// Reception locks count per store: store A's wrong passcodes lock A only.
func TestReceptionLocksPerStore(t *testing.T) {
	now := completedAt.Add(time.Hour)
	atB := application.Receive{StoreID: "S-B", StaffID: "ST-S-B", Passcode: "right", Verifier: verifier}
	wrongAtB := atB
	wrongAtB.Passcode = "wrong"
	wrongAtA := application.Receive{StoreID: "S-A", StaffID: "ST-S-A", Passcode: "wrong", Verifier: verifier}
	lockedA := events(completed(), rejectedAt("S-A", 1), rejectedAt("S-A", 2), rejectedAt("S-A", 3), rejectedAt("S-A", 4), rejectedAt("S-A", 5),
		application.ReceptionLocked{ApplicationID: appID, StoreID: "S-A", At: now})
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     application.Receive
		want    []domain.Event
		wantErr error
	}{
		{name: "fifth_wrong_passcode_at_a_locks_a", given: lockedA[:5], cmd: wrongAtA,
			want: events(rejectedAt("S-A", 5), application.ReceptionLocked{ApplicationID: appID, StoreID: "S-A", At: now}), wantErr: application.ErrReceptionLocked},
		{name: "store_a_locked_refuses_a", given: lockedA, cmd: application.Receive{StoreID: "S-A", StaffID: "ST-S-A", Passcode: "right", Verifier: verifier}, wantErr: application.ErrReceptionLocked},
		{name: "store_a_locked_store_b_receives", given: lockedA, cmd: atB,
			want: events(application.Received{ApplicationID: appID, StoreID: "S-B", StaffID: "ST-S-B", ReceivedAt: now, RetainUntil: domaintest.At("2031-04-01T10:00")})},
		{name: "store_b_counts_from_one", given: lockedA, cmd: wrongAtB, want: events(rejectedAt("S-B", 1)), wantErr: application.ErrWrongPasscode},
		{name: "customer_login_lock_does_not_lock_reception", given: events(completed(), loginRejected(5), application.ReceptionLocked{ApplicationID: appID, CustomerLogin: true, At: now}), cmd: atB,
			want: events(application.Received{ApplicationID: appID, StoreID: "S-B", StaffID: "ST-S-B", ReceivedAt: now, RetainUntil: domaintest.At("2031-04-01T10:00")})},
		{name: "lock_from_before_per_store_locks_every_store", given: events(completed(), rejectedAt("S-A", 5), application.ReceptionLocked{ApplicationID: appID, At: now}), cmd: atB, wantErr: application.ErrReceptionLocked},
		{name: "unlock_lifts_every_lock", given: append(lockedA, application.ReceptionUnlocked{ApplicationID: appID, By: "HD1"}), cmd: wrongAtA, want: events(rejectedAt("S-A", 1)), wantErr: application.ErrWrongPasscode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).Receive(tt.cmd, now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// The customer login follows the reception's rule on its own lock.
func TestCustomerLogIn(t *testing.T) {
	now := completedAt.Add(time.Hour)
	ok := application.CustomerLogin{Passcode: "right", Verifier: verifier}
	wrong := application.CustomerLogin{Passcode: "wrong", Verifier: verifier}
	four := events(completed(), loginRejected(1), loginRejected(2), loginRejected(3), loginRejected(4))
	locked := append(append([]domain.Event{}, four...), loginRejected(5), application.ReceptionLocked{ApplicationID: appID, CustomerLogin: true, At: now})
	tests := []struct {
		name    string
		given   []domain.Event
		cmd     application.CustomerLogin
		want    []domain.Event
		wantErr error
	}{
		{name: "right_passcode_logs_in", given: events(completed()), cmd: ok},
		{name: "wrong_passcode_counts", given: events(completed()), cmd: wrong, want: events(loginRejected(1)), wantErr: application.ErrCustomerLoginRefused},
		{name: "fifth_wrong_passcode_locks_the_login", given: four, cmd: wrong,
			want: events(loginRejected(5), application.ReceptionLocked{ApplicationID: appID, CustomerLogin: true, At: now}), wantErr: application.ErrCustomerLoginRefused},
		{name: "locked_refuses_the_right_passcode", given: locked, cmd: ok, wantErr: application.ErrCustomerLoginRefused},
		{name: "locked_counts_nothing_more", given: locked, cmd: wrong, wantErr: application.ErrCustomerLoginRefused},
		{name: "unlocked_logs_in", given: append(locked, application.ReceptionUnlocked{ApplicationID: appID, By: "HD1"}), cmd: ok},
		{name: "store_lock_does_not_lock_the_login", given: events(completed(), rejectedAt("S-A", 5), application.ReceptionLocked{ApplicationID: appID, StoreID: "S-A", At: now}), cmd: ok},
		{name: "unknown_application_refused_without_events", cmd: ok, wantErr: application.ErrCustomerLoginRefused},
		{name: "expired_refused", given: events(completed(), application.Expired{ApplicationID: appID, CompletedAt: completedAt, ExpiredAt: now}), cmd: ok, wantErr: application.ErrCustomerLoginRefused},
		{name: "received_still_logs_in", given: events(completed(), received()), cmd: ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := application.Load(tt.given).LogIn(tt.cmd, now)
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// The verifier runs for an unknown application too (constant work).
func TestCustomerLogInHashesForUnknownApplications(t *testing.T) {
	calls := 0
	v := application.VerifyFunc(func(hash, attempt string) bool { calls++; return false })
	if _, err := application.New().LogIn(application.CustomerLogin{Passcode: "right", Verifier: v}, completedAt); err == nil {
		t.Fatal("unknown application logged in")
	}
	if calls != 1 {
		t.Fatalf("verifier ran %d times for an unknown application, want 1", calls)
	}
}

// The auditors' snapshot names which locks are set.
func TestSnapshotNamesTheLocks(t *testing.T) {
	now := completedAt.Add(time.Hour)
	a := application.Load(events(completed(), rejectedAt("S-A", 5), application.ReceptionLocked{ApplicationID: appID, StoreID: "S-A", At: now},
		loginRejected(2), rejectedAt("S-B", 1)))
	s := a.Snapshot()
	if !s.Locked || len(s.LockedFor) != 1 || s.LockedFor[0] != "S-A" || s.PasscodeFailures != 5 {
		t.Fatalf("snapshot locks: locked=%v for=%v failures=%d", s.Locked, s.LockedFor, s.PasscodeFailures)
	}
	a.Apply(application.ReceptionUnlocked{ApplicationID: appID, By: "HD1"})
	if s := a.Snapshot(); s.Locked || s.LockedFor != nil || s.PasscodeFailures != 0 {
		t.Fatalf("after unlock: %+v", s)
	}
}
