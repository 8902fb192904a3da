package accounts

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// CreateStaff creates a staff account and, for store roles, its store (an
// existing store keeps its name).
type CreateStaff struct {
	StaffID   string
	StoreID   string
	StoreName string // defaults to StoreID
	Role      string
	Password  string
}

// StaffWriter stores new staff accounts.
type StaffWriter interface {
	// InsertStaff stores a (and its store when a.StoreID is set, unless the
	// store exists) in one transaction; inserted is false, and nothing is
	// written, when the staff ID exists.
	InsertStaff(ctx context.Context, a StaffAccount) (inserted bool, err error)
}

// PasswordHasher makes slow password hashes (bcrypt).
type PasswordHasher interface {
	Hash(secret string) (string, error)
}

// PasswordPolicy judges a new password; related are words it must not be
// built on (the staff ID, the store). adapters/passwordpolicy implements it.
type PasswordPolicy interface {
	Check(password string, related ...string) error
}

// CreateStaffHandler runs CreateStaff. Policy nil checks the length only.
type CreateStaffHandler struct {
	Accounts StaffWriter
	Hasher   PasswordHasher
	Policy   PasswordPolicy
}

// Minimum password length of a staff account.
const MinPasswordLength = 12

// staffRoles are the roles a staff account may have.
var staffRoles = []string{RoleStoreStaff, RoleStoreAdmin, "finance", "auditor", "regulator", RoleOperatorAdmin}

// ErrStaffExists: the staff ID is taken.
var ErrStaffExists = domain.Conflict("staff_exists", "A staff account with this ID exists.").With("staff_id", "")

// Handle checks the account rules (an ID of at most 40 characters, a known
// role, a password the policy accepts or at least 12 characters, a store
// exactly for store staff and store admins), hashes the password and stores
// the account.
func (h CreateStaffHandler) Handle(ctx context.Context, cmd CreateStaff) (StaffAccount, error) {
	switch {
	case strings.TrimSpace(cmd.StaffID) == "":
		return StaffAccount{}, domain.Invalid("missing_staff_id", "Give the staff ID.").With("staff_id", "")
	case !slices.Contains(staffRoles, cmd.Role):
		return StaffAccount{}, domain.Invalid("unknown_role", "role must be one of store_staff, store_admin, finance, auditor, regulator, operator_admin.").With("role", "")
	}
	if err := domain.CheckLengths(
		domain.LengthCheck{Field: "staff_id", Value: cmd.StaffID, Max: 40},
		domain.LengthCheck{Field: "store_id", Value: cmd.StoreID, Max: 40},
		domain.LengthCheck{Field: "store_name", Value: cmd.StoreName, Max: domain.MaxNameLength},
	); err != nil {
		return StaffAccount{}, err
	}
	if h.Policy != nil {
		if err := h.Policy.Check(cmd.Password, cmd.StaffID, cmd.StoreID, cmd.StoreName); err != nil {
			return StaffAccount{}, err
		}
	} else if utf8.RuneCountInString(cmd.Password) < MinPasswordLength {
		return StaffAccount{}, domain.Invalid("weak_password", "Use at least 12 characters.").With("password", "")
	}
	storeRole := cmd.Role == RoleStoreStaff || cmd.Role == RoleStoreAdmin
	if storeRole != (cmd.StoreID != "") || cmd.Role == RoleCustomer {
		return StaffAccount{}, domain.Invalid("bad_role", "Store staff and store admins need a store; other staff roles (finance, auditor, regulator, operator_admin) have none.").With("role", "")
	}
	hash, err := h.Hasher.Hash(cmd.Password)
	if err != nil {
		return StaffAccount{}, err
	}
	a := StaffAccount{StaffID: cmd.StaffID, StoreID: cmd.StoreID, Role: cmd.Role, PasswordHash: hash}
	if storeRole {
		a.StoreName = cmd.StoreName
		if a.StoreName == "" {
			a.StoreName = cmd.StoreID
		}
	}
	inserted, err := h.Accounts.InsertStaff(ctx, a)
	if err != nil {
		return StaffAccount{}, err
	}
	if !inserted {
		return StaffAccount{}, ErrStaffExists
	}
	return a, nil
}
