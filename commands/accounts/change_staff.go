package accounts

import (
	"context"
	"slices"
	"time"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
)

// ChangeStaff changes a staff account's role and/or store. A nil field is
// left as it is; a role without a store (finance, auditor, regulator,
// operator_admin) drops the store. ExpectedVersion is the account's version
// the caller read (If-Match), or -1 for any.
type ChangeStaff struct {
	StaffID         string
	Role            *string
	StoreID         *string
	ExpectedVersion int64
}

// StaffChanger changes staff accounts.
type StaffChanger interface {
	// ChangeStaff runs decide on the account as stored, then, in the same
	// transaction, stores what decide returned with version+1 and denies
	// every token issued to the staff ID at or before revokeAt (token
	// subject StaffTokenSubject). decide's error, an unknown staff ID
	// (ErrUnknownStaff), a version other than expected (≥ 0) as a
	// *eventstore.WrongVersionError on stream StaffStream(id), or a store
	// that does not exist (ErrUnknownStore) write nothing. When decide
	// answers changed false, nothing is written either.
	ChangeStaff(ctx context.Context, staffID string, expected int64, revokeAt time.Time,
		decide func(StaffAccount) (next StaffAccount, changed bool, err error)) (a StaffAccount, version int64, err error)
}

// StaffTokenSubject is the revocation subject of a staff account's tokens;
// it equals api.SubjectKey of the staff's principal.
func StaffTokenSubject(staffID string) string { return "staff:" + staffID }

// StaffStream names a staff account in a version conflict (409 with the
// current version); accounts are rows, not event streams.
func StaffStream(staffID string) string { return "staff-" + staffID }

var (
	// ErrUnknownStaff: no staff account has this ID.
	ErrUnknownStaff = domain.NotFound("unknown_staff", "No staff account has this ID.").With("staff_id", "")
	// ErrUnknownStore: the store does not exist (create it with a staff account first).
	ErrUnknownStore = domain.Invalid("unknown_store", "No store has this ID; stores are created with their first staff account.").With("store_id", "")
	// ErrNoChange: the request names neither a role nor a store.
	ErrNoChange = domain.Invalid("nothing_to_change", "Give role, store_id or both.")
)

// ChangeStaffHandler runs ChangeStaff.
type ChangeStaffHandler struct {
	Accounts StaffChanger
	Clock    commands.Clock
}

// Handle checks the new role (a known one, else 422 unknown_role) and the
// role/store rule of CreateStaff on the result, then stores the change and
// revokes the staff's tokens in one transaction: a token issued before the
// change never carries the old role or store again, on any instance. A
// request that changes nothing writes nothing and keeps the tokens.
func (h ChangeStaffHandler) Handle(ctx context.Context, cmd ChangeStaff) (StaffAccount, int64, error) {
	switch {
	case cmd.Role == nil && cmd.StoreID == nil:
		return StaffAccount{}, 0, ErrNoChange
	case cmd.Role != nil && (!slices.Contains(staffRoles, *cmd.Role)):
		return StaffAccount{}, 0, domain.Invalid("unknown_role", "role must be one of store_staff, store_admin, finance, auditor, regulator, operator_admin.").With("role", "")
	}
	if cmd.StoreID != nil {
		if err := domain.CheckLengths(domain.LengthCheck{Field: "store_id", Value: *cmd.StoreID, Max: 40}); err != nil {
			return StaffAccount{}, 0, err
		}
	}
	decide := func(a StaffAccount) (StaffAccount, bool, error) {
		next := a
		if cmd.Role != nil {
			next.Role = *cmd.Role
		}
		storeRole := next.Role == RoleStoreStaff || next.Role == RoleStoreAdmin
		switch {
		case cmd.StoreID != nil:
			next.StoreID = *cmd.StoreID
		case !storeRole:
			next.StoreID = ""
		}
		if storeRole != (next.StoreID != "") {
			return a, false, domain.Invalid("bad_role", "Store staff and store admins need a store; other staff roles (finance, auditor, regulator, operator_admin) have none.").With("role", "")
		}
		return next, next.Role != a.Role || next.StoreID != a.StoreID, nil
	}
	return h.Accounts.ChangeStaff(ctx, cmd.StaffID, cmd.ExpectedVersion, h.Clock.Now().UTC(), decide)
}
