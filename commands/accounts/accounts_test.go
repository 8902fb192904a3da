package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/commands/accounts"
	"github.com/gantry-etc/gantry/domain"
)

// fakeAccounts is the account table in memory.
type fakeAccounts struct {
	staff    map[string]accounts.StaffAccount
	verified []string // hashes checked, to see that an unknown ID costs a check too
}

func (f *fakeAccounts) InsertStaff(_ context.Context, a accounts.StaffAccount) (bool, error) {
	if _, ok := f.staff[a.StaffID]; ok {
		return false, nil
	}
	f.staff[a.StaffID] = a
	return true, nil
}

func (f *fakeAccounts) FindStaff(_ context.Context, id string) (accounts.StaffAccount, bool, error) {
	a, ok := f.staff[id]
	return a, ok, nil
}

// Hash and Verify: the hash of "pw" is "hash:pw".
func (f *fakeAccounts) Hash(s string) (string, error) { return "hash:" + s, nil }
func (f *fakeAccounts) Verify(hash, attempt string) bool {
	f.verified = append(f.verified, hash)
	return hash == "hash:"+attempt
}

func TestCreateStaff(t *testing.T) {
	ok := accounts.CreateStaff{StaffID: "ST01", StoreID: "S001", Role: accounts.RoleStoreStaff, Password: "long enough pw"}
	tests := []struct {
		name    string
		edit    func(*accounts.CreateStaff)
		want    accounts.StaffAccount
		wantErr string // domain error code
	}{
		{name: "store_staff_with_store", want: accounts.StaffAccount{StaffID: "ST01", StoreID: "S001", StoreName: "S001", Role: accounts.RoleStoreStaff, PasswordHash: "hash:long enough pw"}},
		{name: "store_name_given", edit: func(c *accounts.CreateStaff) { c.StoreName = "品川店" },
			want: accounts.StaffAccount{StaffID: "ST01", StoreID: "S001", StoreName: "品川店", Role: accounts.RoleStoreStaff, PasswordHash: "hash:long enough pw"}},
		{name: "auditor_without_store", edit: func(c *accounts.CreateStaff) { c.StoreID, c.Role = "", "auditor" },
			want: accounts.StaffAccount{StaffID: "ST01", Role: "auditor", PasswordHash: "hash:long enough pw"}},
		{name: "missing_id", edit: func(c *accounts.CreateStaff) { c.StaffID = " " }, wantErr: "missing_staff_id"},
		{name: "short_password", edit: func(c *accounts.CreateStaff) { c.Password = "123456789" }, wantErr: "weak_password"},
		{name: "store_staff_without_store", edit: func(c *accounts.CreateStaff) { c.StoreID = "" }, wantErr: "bad_role"},
		{name: "auditor_with_store", edit: func(c *accounts.CreateStaff) { c.Role = "auditor" }, wantErr: "bad_role"},
		{name: "customer_role", edit: func(c *accounts.CreateStaff) { c.StoreID, c.Role = "", accounts.RoleCustomer }, wantErr: "unknown_role"},
		{name: "unknown_role", edit: func(c *accounts.CreateStaff) { c.StoreID, c.Role = "", "superuser" }, wantErr: "unknown_role"},
		{name: "eleven_characters", edit: func(c *accounts.CreateStaff) { c.Password = "12345678901" }, wantErr: "weak_password"},
		{name: "overlong_staff_id", edit: func(c *accounts.CreateStaff) { c.StaffID = strings.Repeat("S", 41) }, wantErr: "too_long"},
		{name: "taken_id", edit: func(c *accounts.CreateStaff) { c.StaffID = "TAKEN" }, wantErr: "staff_exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAccounts{staff: map[string]accounts.StaffAccount{"TAKEN": {StaffID: "TAKEN"}}}
			cmd := ok
			if tt.edit != nil {
				tt.edit(&cmd)
			}
			got, err := accounts.CreateStaffHandler{Accounts: f, Hasher: f}.Handle(context.Background(), cmd)
			if tt.wantErr != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != tt.wantErr || len(f.staff) != 1 {
					t.Fatalf("err = %v, accounts %v; want %s and nothing stored", err, f.staff, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || f.staff[cmd.StaffID] != tt.want {
				t.Fatalf("got %+v, %v, stored %+v; want %+v", got, err, f.staff[cmd.StaffID], tt.want)
			}
		})
	}
}

func TestPasswordLogin(t *testing.T) {
	f := &fakeAccounts{staff: map[string]accounts.StaffAccount{"ST01": {StaffID: "ST01", StoreID: "S001", Role: accounts.RoleStoreAdmin, PasswordHash: "hash:right password"}}}
	h := accounts.PasswordLoginHandler{Accounts: f, Hasher: f, BootstrapID: "root", BootstrapPassword: "bootstrap secret"}
	tests := []struct {
		name, id, pw string
		want         accounts.Identity
		wantErr      error
	}{
		{name: "right_password", id: "ST01", pw: "right password", want: accounts.Identity{StaffID: "ST01", Role: accounts.RoleStoreAdmin, StoreID: "S001"}},
		{name: "wrong_password", id: "ST01", pw: "wrong password", wantErr: accounts.ErrBadCredentials},
		{name: "unknown_id_costs_a_check_too", id: "NOBODY", pw: "right password", wantErr: accounts.ErrBadCredentials},
		{name: "bootstrap_admin", id: "root", pw: "bootstrap secret", want: accounts.Identity{StaffID: "root", Role: accounts.RoleOperatorAdmin}},
		{name: "bootstrap_wrong_password", id: "root", pw: "guess", wantErr: accounts.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.verified = nil
			got, err := h.Handle(context.Background(), accounts.PasswordLogin{StaffID: tt.id, Password: tt.pw})
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
			if tt.wantErr != nil && tt.id != "root" && len(f.verified) != 1 {
				t.Fatalf("hashes checked %v; a refused login checks one hash, known ID or not", f.verified)
			}
		})
	}
}

type refusingPolicy struct{ got []string }

func (p *refusingPolicy) Check(password string, related ...string) error {
	p.got = append([]string{password}, related...)
	return domain.Invalid("weak_password", "too guessable")
}

// The password policy judges the password against the account's own names,
// and its refusal stores nothing.
func TestCreateStaffAsksThePasswordPolicy(t *testing.T) {
	f := &fakeAccounts{staff: map[string]accounts.StaffAccount{}}
	p := &refusingPolicy{}
	_, err := accounts.CreateStaffHandler{Accounts: f, Hasher: f, Policy: p}.Handle(context.Background(),
		accounts.CreateStaff{StaffID: "ST01", StoreID: "S001", StoreName: "品川店", Role: accounts.RoleStoreStaff, Password: "shinagawa-ST01"})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != "weak_password" || len(f.staff) != 0 {
		t.Fatalf("err = %v, stored %v; want weak_password and nothing stored", err, f.staff)
	}
	if strings.Join(p.got, ",") != "shinagawa-ST01,ST01,S001,品川店" {
		t.Fatalf("policy asked with %v", p.got)
	}
}

// cardHolders says which staff have an enrolled IC card.
type cardHolders map[string]bool

func (c cardHolders) HasActiveCard(_ context.Context, id string) (bool, error) { return c[id], nil }

func TestPasswordLoginRefusedForStoreStaffWithACard(t *testing.T) {
	f := &fakeAccounts{staff: map[string]accounts.StaffAccount{
		"ST01": {StaffID: "ST01", StoreID: "S001", Role: accounts.RoleStoreStaff, PasswordHash: "hash:pw"},
		"ST02": {StaffID: "ST02", StoreID: "S001", Role: accounts.RoleStoreStaff, PasswordHash: "hash:pw"},
		"OP01": {StaffID: "OP01", Role: accounts.RoleOperatorAdmin, PasswordHash: "hash:pw"},
	}}
	h := accounts.PasswordLoginHandler{Accounts: f, Hasher: f, Cards: cardHolders{"ST01": true, "OP01": true}}
	for _, tc := range []struct {
		id, pw string
		want   error
	}{
		{"ST01", "pw", accounts.ErrUseCard},           // store staff with a card
		{"ST01", "wrong", accounts.ErrBadCredentials}, // a wrong password says nothing about the card
		{"ST02", "pw", nil},                           // no card: password
		{"OP01", "pw", nil},                           // back office keeps the password
	} {
		_, err := h.Handle(context.Background(), accounts.PasswordLogin{StaffID: tc.id, Password: tc.pw})
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s/%s: %v, want %v", tc.id, tc.pw, err, tc.want)
		}
	}
}
