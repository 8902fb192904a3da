package setupapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// AwaitingRow is an application awaiting reception.
type AwaitingRow struct {
	ApplicationID string    `json:"application_id"`
	ByProxy       bool      `json:"by_proxy"`
	CompletedAt   time.Time `json:"completed_at"`
	Deadline      time.Time `json:"deadline"`
	DaysLeft      int       `json:"days_left"`
}

func (a *API) awaiting(c echo.Context) error {
	p := api.PrincipalOf(c)
	rows, err := a.Pool.Query(c.Request().Context(), `SELECT application_id, by_proxy, completed_at, deadline FROM `+projections.Schema(proj.ApplicationsName)+
		`.applications WHERE status='completed' AND deadline > $1 AND ($2 = '' OR filing_store = $2) ORDER BY deadline`, a.now(), storeFilter(p))
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []AwaitingRow{}
	for rows.Next() {
		var r AwaitingRow
		if err := rows.Scan(&r.ApplicationID, &r.ByProxy, &r.CompletedAt, &r.Deadline); err != nil {
			return err
		}
		r.DaysLeft = int(r.Deadline.Sub(a.now()).Hours() / 24)
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, out)
}

// A store sees its own data only; operator, auditor and regulator see all.
func storeFilter(p api.Principal) string {
	if p.Role == api.RoleStaff || p.Role == api.RoleStoreAdmin {
		return p.Store
	}
	return ""
}

// ReceivedRow is a received application and how long it is valid.
type ReceivedRow struct {
	ApplicationID string    `json:"application_id"`
	StoreID       string    `json:"store_id"`
	ReceivedAt    time.Time `json:"received_at"`
	ValidUntil    time.Time `json:"valid_until"`
}

func (a *API) received(c echo.Context) error {
	rows, err := a.Pool.Query(c.Request().Context(), `SELECT application_id, receiving_store, received_at, retain_until FROM `+projections.Schema(proj.ApplicationsName)+
		`.applications WHERE status='received' AND ($1 = '' OR receiving_store = $1) ORDER BY received_at DESC LIMIT 500`, storeFilter(api.PrincipalOf(c)))
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []ReceivedRow{}
	for rows.Next() {
		var r ReceivedRow
		if err := rows.Scan(&r.ApplicationID, &r.StoreID, &r.ReceivedAt, &r.ValidUntil); err != nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, out)
}

// SetupRow is a setup in the per-store list.
type SetupRow struct {
	SetupID   string    `json:"setup_id"`
	StoreID   string    `json:"store_id"`
	Status    string    `json:"status"`
	LastEvent string    `json:"last_event"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (a *API) setups(c echo.Context) error {
	rows, err := a.Pool.Query(c.Request().Context(), `SELECT setup_id, store_id, status, last_event, updated_at FROM `+projections.Schema(proj.SetupsName)+
		`.setups WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR status = $2) ORDER BY updated_at DESC LIMIT 500`, storeFilter(api.PrincipalOf(c)), c.QueryParam("status"))
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []SetupRow{}
	for rows.Next() {
		var r SetupRow
		if err := rows.Scan(&r.SetupID, &r.StoreID, &r.Status, &r.LastEvent, &r.UpdatedAt); err != nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, out)
}

// ConsentRow is a proxy consent in the 5-year history.
type ConsentRow struct {
	ConsentID     string    `json:"consent_id"`
	StoreID       string    `json:"store_id"`
	RequestDate   time.Time `json:"request_date"`
	ApplicantName *string   `json:"applicant_name"`
	Units         int       `json:"units"`
	Used          int       `json:"used"`
	SignedPDF     *string   `json:"signed_pdf"`
	RecordedAt    time.Time `json:"recorded_at"`
}

func (a *API) consents(c echo.Context) error {
	rows, err := a.Pool.Query(c.Request().Context(), `SELECT consent_id, store_id, request_date, applicant_name, units, used, signed_pdf, recorded_at FROM `+projections.Schema(proj.ConsentsName)+
		`.consents WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR applicant_name ILIKE '%' || $2 || '%')
		AND ($3 = '' OR request_date >= $3::date) AND ($4 = '' OR request_date <= $4::date) ORDER BY request_date DESC LIMIT 500`,
		storeFilter(api.PrincipalOf(c)), c.QueryParam("applicant"), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []ConsentRow{}
	for rows.Next() {
		var r ConsentRow
		if err := rows.Scan(&r.ConsentID, &r.StoreID, &r.RequestDate, &r.ApplicantName, &r.Units, &r.Used, &r.SignedPDF, &r.RecordedAt); err != nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, out)
}

// StatRow is issuance per store per day.
type StatRow struct {
	StoreID string    `json:"store_id"`
	Day     time.Time `json:"day"`
	Issued  int       `json:"issued"`
	Prints  int       `json:"prints"`
}

func (a *API) stats(c echo.Context) error {
	rows, err := a.Pool.Query(c.Request().Context(), `SELECT store_id, day, issued, prints FROM `+projections.Schema(proj.StatsName)+
		`.issuance WHERE ($1 = '' OR store_id = $1) ORDER BY day DESC, store_id LIMIT 1000`, storeFilter(api.PrincipalOf(c)))
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []StatRow{}
	for rows.Next() {
		var r StatRow
		if err := rows.Scan(&r.StoreID, &r.Day, &r.Issued, &r.Prints); err != nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, out)
}
