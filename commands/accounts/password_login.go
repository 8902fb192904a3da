package accounts

import (
	"context"
	"crypto/subtle"
	"errors"
)

// PasswordLogin is a staff login with staff ID and password.
type PasswordLogin struct {
	StaffID  string
	Password string
}

// StaffFinder looks staff accounts up.
type StaffFinder interface {
	// FindStaff returns the account, or found false when there is none.
	FindStaff(ctx context.Context, staffID string) (a StaffAccount, found bool, err error)
}

// PasswordVerifier checks a password against its slow hash (bcrypt).
type PasswordVerifier interface {
	Verify(hash, attempt string) bool
}

// PasswordLoginHandler checks staff passwords. BootstrapID and
// BootstrapPassword, when set, are an operator admin from configuration, so
// that the first accounts can be created.
type PasswordLoginHandler struct {
	Accounts                       StaffFinder
	Hasher                         PasswordVerifier
	BootstrapID, BootstrapPassword string
	// DummyHash is checked when the staff ID is unknown, so that an unknown
	// ID costs the same time as a wrong password: a hash of the configured
	// cost that no password matches (empty: one of cost 10).
	DummyHash string
	// Cards, when set, makes store staff with an enrolled IC card use it:
	// their password login is ErrUseCard (issue 11).
	Cards CardHolders
}

// CardHolders tells whether a staff member has an enrolled, unrevoked IC
// card (the station's staff cards).
type CardHolders interface {
	HasActiveCard(ctx context.Context, staffID string) (bool, error)
}

// ErrUseCard: the password was right, but this store staff member logs in
// with the IC card (card + PIN + face).
var ErrUseCard = errors.New("accounts: log in with the enrolled staff IC card")

// dummyHash is the DummyHash of cost 10 (bcrypt's default).
const dummyHash = "$2a$10$invalidinvalidinvalidinvalidinvalidinvalidinvalidinvali"

// Handle answers the account's identity, or ErrBadCredentials for an unknown
// ID or a wrong password alike.
func (h PasswordLoginHandler) Handle(ctx context.Context, cmd PasswordLogin) (Identity, error) {
	if h.BootstrapID != "" && cmd.StaffID == h.BootstrapID &&
		subtle.ConstantTimeCompare([]byte(cmd.Password), []byte(h.BootstrapPassword)) == 1 {
		return Identity{StaffID: cmd.StaffID, Role: RoleOperatorAdmin}, nil
	}
	a, found, err := h.Accounts.FindStaff(ctx, cmd.StaffID)
	if err != nil {
		return Identity{}, err
	}
	if !found {
		d := h.DummyHash
		if d == "" {
			d = dummyHash
		}
		h.Hasher.Verify(d, cmd.Password)
		return Identity{}, ErrBadCredentials
	}
	if !h.Hasher.Verify(a.PasswordHash, cmd.Password) {
		return Identity{}, ErrBadCredentials
	}
	if h.Cards != nil && a.StoreID != "" {
		has, err := h.Cards.HasActiveCard(ctx, a.StaffID)
		if err != nil {
			return Identity{}, err
		}
		if has {
			return Identity{}, ErrUseCard
		}
	}
	return Identity{StaffID: a.StaffID, Role: a.Role, StoreID: a.StoreID}, nil
}
