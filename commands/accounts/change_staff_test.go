package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/commands/accounts"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

// fakeChanger is one account in memory with its version and the token
// revocations written with its changes.
type fakeChanger struct {
	a       accounts.StaffAccount
	version int64
	revoked []time.Time
}

func (f *fakeChanger) ChangeStaff(_ context.Context, id string, expected int64, at time.Time,
	decide func(accounts.StaffAccount) (accounts.StaffAccount, bool, error)) (accounts.StaffAccount, int64, error) {
	if id != f.a.StaffID {
		return accounts.StaffAccount{}, 0, accounts.ErrUnknownStaff
	}
	if expected >= 0 && expected != f.version {
		return accounts.StaffAccount{}, 0, &es.WrongVersionError{Stream: accounts.StaffStream(id), Expected: es.ExpectedVersion(expected), Actual: f.version}
	}
	next, changed, err := decide(f.a)
	if err != nil || !changed {
		return f.a, f.version, err
	}
	f.a, f.version = next, f.version+1
	f.revoked = append(f.revoked, at)
	return next, f.version, nil
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestChangeStaff(t *testing.T) {
	str := func(s string) *string { return &s }
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, domain.Tokyo)
	tests := []struct {
		name    string
		cmd     accounts.ChangeStaff
		want    accounts.StaffAccount
		wantErr string // domain code, or "conflict"
		revoked bool
		wantVer int64
	}{
		{name: "new_store_revokes", cmd: accounts.ChangeStaff{StoreID: str("S002"), ExpectedVersion: 1},
			want: accounts.StaffAccount{StoreID: "S002", Role: accounts.RoleStoreStaff}, revoked: true, wantVer: 2},
		{name: "to_finance_drops_the_store", cmd: accounts.ChangeStaff{Role: str("finance"), ExpectedVersion: -1},
			want: accounts.StaffAccount{Role: "finance"}, revoked: true, wantVer: 2},
		{name: "to_store_admin_keeps_the_store", cmd: accounts.ChangeStaff{Role: str(accounts.RoleStoreAdmin), ExpectedVersion: -1},
			want: accounts.StaffAccount{StoreID: "S001", Role: accounts.RoleStoreAdmin}, revoked: true, wantVer: 2},
		{name: "same_role_and_store_writes_nothing", cmd: accounts.ChangeStaff{Role: str(accounts.RoleStoreStaff), StoreID: str("S001"), ExpectedVersion: -1},
			want: accounts.StaffAccount{StoreID: "S001", Role: accounts.RoleStoreStaff}, wantVer: 1},
		{name: "unknown_role", cmd: accounts.ChangeStaff{Role: str("superuser"), ExpectedVersion: -1}, wantErr: "unknown_role"},
		{name: "customer_role", cmd: accounts.ChangeStaff{Role: str(accounts.RoleCustomer), ExpectedVersion: -1}, wantErr: "unknown_role"},
		{name: "store_role_without_store", cmd: accounts.ChangeStaff{StoreID: str(""), ExpectedVersion: -1}, wantErr: "bad_role"},
		{name: "auditor_with_store", cmd: accounts.ChangeStaff{Role: str("auditor"), StoreID: str("S001"), ExpectedVersion: -1}, wantErr: "bad_role"},
		{name: "nothing_given", cmd: accounts.ChangeStaff{ExpectedVersion: -1}, wantErr: "nothing_to_change"},
		{name: "stale_version", cmd: accounts.ChangeStaff{Role: str("auditor"), ExpectedVersion: 3}, wantErr: "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeChanger{a: accounts.StaffAccount{StaffID: "ST01", StoreID: "S001", Role: accounts.RoleStoreStaff}, version: 1}
			tt.cmd.StaffID = "ST01"
			got, v, err := accounts.ChangeStaffHandler{Accounts: f, Clock: fixedClock(now)}.Handle(context.Background(), tt.cmd)
			if tt.wantErr != "" {
				var de *domain.Error
				ok := errors.As(err, &de) && de.Code == tt.wantErr || tt.wantErr == "conflict" && errors.Is(err, es.ErrWrongExpectedVersion)
				if !ok || len(f.revoked) != 0 || f.version != 1 {
					t.Fatalf("err %v, revoked %v, version %d; want %s and nothing written", err, f.revoked, f.version, tt.wantErr)
				}
				return
			}
			tt.want.StaffID = "ST01"
			if err != nil || got != tt.want || v != tt.wantVer {
				t.Fatalf("got %+v v%d, %v; want %+v v%d", got, v, err, tt.want, tt.wantVer)
			}
			if tt.revoked != (len(f.revoked) == 1) || tt.revoked && !f.revoked[0].Equal(now) {
				t.Fatalf("revoked %v, want %v at the command's time", f.revoked, tt.revoked)
			}
		})
	}
	if _, _, err := (accounts.ChangeStaffHandler{Accounts: &fakeChanger{}, Clock: fixedClock(now)}).Handle(context.Background(),
		accounts.ChangeStaff{StaffID: "nobody", Role: str("auditor"), ExpectedVersion: -1}); !errors.Is(err, accounts.ErrUnknownStaff) {
		t.Fatalf("unknown staff: %v", err)
	}
}
