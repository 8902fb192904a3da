package setupapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands/accounts"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
)

// ErrBadCredentials: unknown staff ID or wrong password (never says which).
var ErrBadCredentials = &api.ProblemError{Problem: api.Problem{Status: http.StatusUnauthorized, Code: "bad_credentials", Detail: "Staff ID or password is wrong."}}

// errUseCard: a store staff member with an enrolled IC card tried the password.
var errUseCard = &api.ProblemError{Problem: api.Problem{Status: http.StatusUnauthorized, Code: "use_card_login", Detail: "Your staff IC card is enrolled: log in at the station with the card, its PIN and the face check."}}

// errBadCustomerCredentials: unknown or ended application, or wrong passcode.
var errBadCustomerCredentials = &api.ProblemError{Problem: api.Problem{Status: http.StatusUnauthorized, Code: "bad_credentials", Detail: application.ErrCustomerLoginRefused.Detail}}

// Authenticator is one staff login method (password today; IC card + face
// later). Each returns the principal to issue a token for.
type Authenticator interface {
	Authenticate(ctx context.Context, c echo.Context) (api.Principal, error)
}

// StaffLogin is the password login body.
type StaffLogin struct {
	StaffID  string `json:"staff_id"`
	Password string `json:"password"`
}

// TokenResponse is a login's answer.
type TokenResponse struct {
	Token string `json:"token"`
	Role  string `json:"role"`
	Store string `json:"store,omitempty"`
}

// passwordLogin is the password Authenticator: it binds the body and runs
// accounts.PasswordLoginHandler.
type passwordLogin struct{ a *API }

func (p passwordLogin) Authenticate(ctx context.Context, c echo.Context) (api.Principal, error) {
	var req StaffLogin
	if err := api.Bind(c, &req); err != nil {
		return api.Principal{}, err
	}
	cards, _ := p.a.Accounts.(accounts.CardHolders) // IC cards (issue 11), when the store knows them
	id, err := accounts.PasswordLoginHandler{Accounts: p.a.Accounts, Hasher: p.a.Hasher, BootstrapID: p.a.BootstrapID, BootstrapPassword: p.a.BootstrapPassword, Cards: cards, DummyHash: p.a.DummyHash}.
		Handle(ctx, accounts.PasswordLogin{StaffID: req.StaffID, Password: req.Password})
	if errors.Is(err, accounts.ErrBadCredentials) {
		return api.Principal{}, ErrBadCredentials
	}
	if errors.Is(err, accounts.ErrUseCard) {
		return api.Principal{}, errUseCard
	}
	if err != nil {
		return api.Principal{}, err
	}
	return StaffPrincipal(id), nil
}

// StaffPrincipal is the token principal of a staff identity.
func StaffPrincipal(id accounts.Identity) api.Principal {
	return api.Principal{Role: api.Role(id.Role), Subject: id.StaffID, Store: id.StoreID}
}

func (a *API) staffLogin(s *api.Server, m Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := m.Authenticate(c.Request().Context(), c)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, TokenResponse{Token: s.Tokens().Issue(p), Role: string(p.Role), Store: p.Store})
	}
}

// CustomerLogin: application ID + passcode, or the QR payload.
type CustomerLogin struct {
	ApplicationID string `json:"application_id,omitempty"`
	Passcode      string `json:"passcode,omitempty"`
	QR            string `json:"qr,omitempty"`
}

func (l CustomerLogin) credentials() cmds.Credentials {
	return cmds.Credentials{ApplicationID: l.ApplicationID, Passcode: l.Passcode, QR: l.QR}
}

func (a *API) customerLogin(s *api.Server) echo.HandlerFunc {
	login := cmds.CustomerLoginHandler{Streams: a.Streams, Clock: a.Clock, Hasher: a.Hasher, DummyHash: a.DummyHash}
	return func(c echo.Context) error {
		var req CustomerLogin
		if err := api.Bind(c, &req); err != nil {
			return err
		}
		id, err := login.Handle(api.Actor(c), cmds.CustomerLogin{Credentials: req.credentials()})
		if errors.Is(err, cmds.ErrBadCustomerCredentials) {
			return errBadCustomerCredentials
		}
		if err != nil {
			return err
		}
		p := api.Principal{Role: api.RoleCustomer, Subject: id, Application: id}
		return c.JSON(http.StatusOK, TokenResponse{Token: s.Tokens().Issue(p), Role: string(p.Role)})
	}
}

// NewStaff is the body of creating a staff account (operator admin).
type NewStaff struct {
	StaffID   string `json:"staff_id"`
	StoreID   string `json:"store_id,omitempty"`
	StoreName string `json:"store_name,omitempty"`
	Role      string `json:"role"`
	Password  string `json:"password"`
}

func (a *API) createStaff(c echo.Context) error {
	var req NewStaff
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if _, err := (accounts.CreateStaffHandler{Accounts: a.Accounts, Hasher: a.Hasher, Policy: a.PasswordPolicy}).Handle(c.Request().Context(), accounts.CreateStaff{
		StaffID: req.StaffID, StoreID: req.StoreID, StoreName: req.StoreName, Role: req.Role, Password: req.Password}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"staff_id": req.StaffID, "role": req.Role, "store_id": req.StoreID})
}

// StaffChange is the body of a staff account's role or store change; an
// absent field stays as it is.
type StaffChange struct {
	Role    *string `json:"role,omitempty"`
	StoreID *string `json:"store_id,omitempty"`
}

// StaffAccountResponse is a staff account as the operator sees it (its
// version is the ETag).
type StaffAccountResponse struct {
	StaffID string `json:"staff_id"`
	Role    string `json:"role"`
	StoreID string `json:"store_id,omitempty"`
}

// changeStaff changes a staff account's role or store; the command revokes
// the staff's tokens in the same transaction.
func (a *API) changeStaff(c echo.Context) error {
	var req StaffChange
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	acc, v, err := accounts.ChangeStaffHandler{Accounts: a.Accounts, Clock: a.Clock}.Handle(c.Request().Context(), accounts.ChangeStaff{
		StaffID: c.Param("id"), Role: req.Role, StoreID: req.StoreID, ExpectedVersion: expected})
	if err != nil {
		return err
	}
	api.SetVersion(c, v)
	return c.JSON(http.StatusOK, StaffAccountResponse{StaffID: acc.StaffID, Role: acc.Role, StoreID: acc.StoreID})
}
