package setupapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ErrBadCredentials: unknown staff ID or wrong password (never says which).
var ErrBadCredentials = &api.ProblemError{Problem: api.Problem{Status: http.StatusUnauthorized, Code: "bad_credentials", Detail: "Staff ID or password is wrong."}}

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

type passwordLogin struct{ a *API }

func (p passwordLogin) Authenticate(ctx context.Context, c echo.Context) (api.Principal, error) {
	var req StaffLogin
	if err := api.Bind(c, &req); err != nil {
		return api.Principal{}, err
	}
	a := p.a
	if a.BootstrapID != "" && req.StaffID == a.BootstrapID &&
		subtle.ConstantTimeCompare([]byte(req.Password), []byte(a.BootstrapPassword)) == 1 {
		return api.Principal{Role: api.RoleOperatorAdmin, Subject: req.StaffID}, nil
	}
	var store *string
	var role, hash string
	err := a.Pool.QueryRow(ctx, `SELECT store_id, role, password_hash FROM setup_staff_accounts WHERE staff_id=$1`, req.StaffID).Scan(&store, &role, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		a.Hasher.Verify(a.DummyHash, req.Password) // the same bcrypt cost either way
		return api.Principal{}, ErrBadCredentials
	}
	if err != nil {
		return api.Principal{}, err
	}
	if !a.Hasher.Verify(hash, req.Password) {
		return api.Principal{}, ErrBadCredentials
	}
	p2 := api.Principal{Role: api.Role(role), Subject: req.StaffID}
	if store != nil {
		p2.Store = *store
	}
	return p2, nil
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

func credentials(id, pass, qr string) (string, string, error) {
	if qr != "" {
		q, err := application.ParseQR(qr)
		if err != nil {
			return "", "", err
		}
		return q.ID().String(), q.Passcode(), nil
	}
	if _, err := application.ParseID(id); err != nil {
		return "", "", err
	}
	if pass == "" {
		return "", "", application.ErrInvalidPasscode.With("passcode", "Give the passcode or the QR payload.")
	}
	return id, pass, nil
}

func (a *API) customerLogin(s *api.Server) echo.HandlerFunc {
	login, herr := cmds.NewCustomerLoginHandler(a.Streams, a.Clock, a.Hasher)
	return func(c echo.Context) error {
		var req CustomerLogin
		if err := api.Bind(c, &req); err != nil {
			return err
		}
		id, pass, err := credentials(req.ApplicationID, req.Passcode, req.QR)
		if err != nil {
			return err
		}
		if herr != nil {
			return herr
		}
		if _, err := login.Handle(api.Actor(c), cmds.CustomerLogin{ApplicationID: id, Passcode: pass}); err != nil {
			if errors.Is(err, application.ErrCustomerLoginRefused) {
				return &api.ProblemError{Problem: api.Problem{Status: 401, Code: "bad_credentials", Detail: application.ErrCustomerLoginRefused.Detail}}
			}
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
	switch {
	case strings.TrimSpace(req.StaffID) == "":
		return domain.Invalid("missing_staff_id", "Give the staff ID.").With("staff_id", "")
	}
	if err := checkNewStaff(req); err != nil {
		return err
	}
	role := api.Role(req.Role)
	storeRole := role == api.RoleStaff || role == api.RoleStoreAdmin
	if storeRole != (req.StoreID != "") || role == api.RoleCustomer {
		return domain.Invalid("bad_role", "Store staff and store admins need a store; other staff roles (finance, auditor, regulator, operator_admin) have none.").With("role", "")
	}
	hash, err := a.Hasher.Hash(req.Password)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var store any
	if storeRole {
		store = req.StoreID
		name := req.StoreName
		if name == "" {
			name = req.StoreID
		}
		if _, err := a.Pool.Exec(ctx, `INSERT INTO setup_stores (store_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, req.StoreID, name); err != nil {
			return err
		}
	}
	tag, err := a.Pool.Exec(ctx, `INSERT INTO setup_staff_accounts (staff_id, store_id, role, password_hash) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, req.StaffID, store, string(role), hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return domain.Conflict("staff_exists", "A staff account with this ID exists.").With("staff_id", "")
	}
	return c.JSON(http.StatusCreated, map[string]string{"staff_id": req.StaffID, "role": req.Role, "store_id": req.StoreID})
}

// PutConsentPDF stores a signed consent PDF; the reference is its SHA-256.
func (a *API) PutConsentPDF(ctx context.Context, consentID string, pdf []byte) (string, error) {
	h := sha256.Sum256(pdf)
	ref := "sha256:" + hex.EncodeToString(h[:])
	_, err := a.Pool.Exec(ctx, `INSERT INTO setup_consent_documents (consent_id, sha256, pdf) VALUES ($1,$2,$3) ON CONFLICT (consent_id) DO NOTHING`, consentID, ref, pdf)
	return ref, err
}

// DeleteConsentPDF deletes it at the end of the consent's retention.
func (a *API) DeleteConsentPDF(ctx context.Context, consentID string) error {
	_, err := a.Pool.Exec(ctx, `DELETE FROM setup_consent_documents WHERE consent_id=$1`, consentID)
	return err
}
