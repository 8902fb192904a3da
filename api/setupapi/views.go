package setupapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

// The rows of the view routes are the reader's.
type (
	AwaitingRow = proj.AwaitingRow
	ReceivedRow = proj.ReceivedRow
	SetupRow    = proj.SetupRow
	ConsentRow  = proj.ConsentRow
	StatRow     = proj.StatRow
)

// A store sees its own data only; the other roles a route admits see all stores.
func storeFilter(p api.Principal) string {
	if p.Role == api.RoleStaff || p.Role == api.RoleStoreAdmin {
		return p.Store
	}
	return ""
}

func (a *API) awaiting(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := a.Views.Awaiting(c.Request().Context(), storeFilter(api.PrincipalOf(c)), a.Clock.Now(), page)
	return api.Paged(c, rows, err)
}

func (a *API) received(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := a.Views.Received(c.Request().Context(), storeFilter(api.PrincipalOf(c)), page)
	return api.Paged(c, rows, err)
}

func (a *API) setups(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := a.Views.Setups(c.Request().Context(), storeFilter(api.PrincipalOf(c)), c.QueryParam("status"), page)
	return api.Paged(c, rows, err)
}

func (a *API) consents(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	f := proj.ConsentFilter{Store: storeFilter(api.PrincipalOf(c)), Applicant: c.QueryParam("applicant"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	if f.Store == "" {
		f.Store = c.QueryParam("store")
	}
	if _, err := optDate("from", f.From); err != nil {
		return err
	}
	if _, err := optDate("to", f.To); err != nil {
		return err
	}
	rows, err := a.Views.Consents(c.Request().Context(), f, page)
	return api.Paged(c, rows, err)
}

func (a *API) stats(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := a.Views.Issuance(c.Request().Context(), storeFilter(api.PrincipalOf(c)), page)
	return api.Paged(c, rows, err)
}

func (a *API) privacyReport(c echo.Context) error {
	rep, err := a.Privacy.Report(c.Request().Context(), c.Param("subject"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
