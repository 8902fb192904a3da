// Package accounts holds the commands on staff accounts: creating one (and
// its store), and the staff logins. Account tables are reached through the
// ports each command declares (adapters/postgres implements them). A login
// method is one handler that answers an Identity; the password login is
// the first, an IC-card login can sit beside it.
package accounts

import "errors"

// Roles of staff accounts that the account rules name. They are the same
// strings as the API's token roles (api.Role): an account's role becomes
// its token's role.
const (
	RoleStoreStaff = "store_staff"
	RoleStoreAdmin = "store_admin"
	RoleCustomer   = "customer"
	// RoleOperatorAdmin is the bootstrap account's role.
	RoleOperatorAdmin = "operator_admin"
)

// StaffAccount is a stored staff account. StoreID is "" for roles without
// a store (finance, auditor, regulator, operator admin).
type StaffAccount struct {
	StaffID      string
	StoreID      string
	StoreName    string // only when creating: the store's name
	Role         string
	PasswordHash string
}

// Identity is who a login proved the caller to be.
type Identity struct {
	StaffID string
	Role    string
	StoreID string
}

// ErrBadCredentials: unknown staff ID or wrong password (never says which).
var ErrBadCredentials = errors.New("accounts: staff ID or password is wrong")
