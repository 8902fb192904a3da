package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

var errRevoked = &ProblemError{Problem{Status: 401, Code: "unauthenticated", Detail: "The token was revoked (logout, or a change to the account); log in again."}}

// SubjectKey is the key of a principal's not-before time: staff IDs and
// application IDs are separate name spaces.
func SubjectKey(p Principal) string {
	if p.Role == RoleCustomer {
		return "customer:" + p.Subject
	}
	return "staff:" + p.Subject
}

// checkRevoked refuses a token on the deny-list. The deny-list
// (adapters/postgres.Revocations) answers from the database, or from a
// cache that forgets on every change any instance commits (NOTIFY), so a
// logout takes effect at once on every instance; a database that is down
// is a 503.
func (s *Server) checkRevoked(c echo.Context, p Principal) error {
	if s.revoked == nil {
		return nil
	}
	bad, err := s.revoked.Revoked(c.Request().Context(), p.TokenID, SubjectKey(p), p.IssuedAt)
	if err != nil {
		return err
	}
	if bad {
		return errRevoked
	}
	return nil
}

var everyone = []Role{RoleCustomer, RoleStaff, RoleStoreAdmin, RoleFinance, RoleAuditor, RoleRegulator, RoleOperatorAdmin}

// authRoutes registers logout and the operator's revocation of a staff
// account's tokens.
func (s *Server) authRoutes() {
	s.Handle(Op{Method: http.MethodPost, Path: "/v1/auth/logout", ID: "logout", Tag: "auth", Status: http.StatusNoContent,
		Summary: "Revoke the token sent (logout); it is refused from now on.", Roles: everyone, Handler: s.logout})
	s.Handle(Op{Method: http.MethodPost, Path: "/v1/admin/staff/:id/revoke-tokens", ID: "revokeStaffTokens", Tag: "auth", Status: http.StatusNoContent,
		Summary: "Revoke every token issued so far to a staff account (a lost device, a role or store change).", Roles: []Role{RoleOperatorAdmin}, Handler: s.revokeStaff})
}

func (s *Server) logout(c echo.Context) error {
	p := PrincipalOf(c)
	if s.revoked == nil || p.TokenID == "" {
		return &ProblemError{Problem{Status: http.StatusConflict, Code: "not_revocable", Detail: "This token has no ID and cannot be revoked; it expires at " + p.Expires.Format(time.RFC3339) + "."}}
	}
	if err := s.revoked.Revoke(c.Request().Context(), p.TokenID, p.Expires); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// RevokeSubject denies every token of the principal's subject issued up to
// now (the tokens' clock). Code that changes a staff account's role or
// store calls it.
func (s *Server) RevokeSubject(c echo.Context, p Principal) error {
	if s.revoked == nil {
		return nil
	}
	return s.revoked.RevokeSubject(c.Request().Context(), SubjectKey(p), s.tokens.now().UTC())
}

func (s *Server) revokeStaff(c echo.Context) error {
	id := c.Param("id")
	if id == "" || len(id) > 100 {
		return BadRequest("bad_staff_id", "Give the staff ID in the path.")
	}
	if err := s.RevokeSubject(c, Principal{Role: RoleStaff, Subject: id}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
