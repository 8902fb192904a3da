package setup

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/projections"
)

// Reader answers the setup area's queries from its views: the store and
// overseer lists, the public certificate check, and the candidates of the
// scheduled jobs. Every method is one read; safe for concurrent use. A view
// lags the event log: what must be exact (a customer's own application, a
// setup's version) is loaded from the streams by commands/setup instead.
type Reader struct{ Pool *pgxpool.Pool }

var (
	applicationsT = projections.Schema(ApplicationsName) + ".applications"
	setupsT       = projections.Schema(SetupsName) + ".setups"
	certificatesT = projections.Schema(CertificatesName) + ".certificates"
	consentsT     = projections.Schema(ConsentsName) + ".consents"
	issuanceT     = projections.Schema(StatsName) + ".issuance"
)

// collect reads every row with scan, closing rows; the first Scan or read
// error is returned.
func collect[T any](rows pgx.Rows, err error, scan func(row pgx.CollectableRow, r *T) error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var r T
		err := scan(row, &r)
		return r, err
	})
	if out == nil && err == nil {
		out = []T{}
	}
	return out, err
}

// AwaitingRow is an application awaiting reception.
type AwaitingRow struct {
	ApplicationID string    `json:"application_id"`
	ByProxy       bool      `json:"by_proxy"`
	CompletedAt   time.Time `json:"completed_at"`
	Deadline      time.Time `json:"deadline"`
	DaysLeft      int       `json:"days_left"`
}

// Awaiting lists the applications awaiting reception whose deadline is after
// now, soonest first; store "" means every store's (web applications have
// no filing store, so a store sees its own proxy filings only). Deadlines
// come from the domain's rule applied to the completion time, not from a
// column, so a changed rule needs no rebuild.
func (r Reader) Awaiting(ctx context.Context, store string, now time.Time) ([]AwaitingRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT application_id, by_proxy, completed_at FROM `+applicationsT+`
		WHERE status='completed' AND completed_at > $1 AND ($2 = '' OR filing_store = $2) ORDER BY completed_at`, application.ExpiryDueIfCompletedBy(now), store)
	return collect(rows, err, func(row pgx.CollectableRow, a *AwaitingRow) error {
		if err := row.Scan(&a.ApplicationID, &a.ByProxy, &a.CompletedAt); err != nil {
			return err
		}
		a.Deadline = application.ReceptionDeadlineOf(a.CompletedAt)
		a.DaysLeft = int(a.Deadline.Sub(now).Hours() / 24)
		return nil
	})
}

// ReceivedRow is a received application and how long it is valid.
type ReceivedRow struct {
	ApplicationID string    `json:"application_id"`
	StoreID       string    `json:"store_id"`
	ReceivedAt    time.Time `json:"received_at"`
	ValidUntil    time.Time `json:"valid_until"`
}

// Received lists the latest 500 received applications, of one receiving
// store or ("") all, valid until the domain's retention end.
func (r Reader) Received(ctx context.Context, store string) ([]ReceivedRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT application_id, receiving_store, received_at, completed_at FROM `+applicationsT+`
		WHERE status='received' AND ($1 = '' OR receiving_store = $1) ORDER BY received_at DESC LIMIT 500`, store)
	return collect(rows, err, func(row pgx.CollectableRow, a *ReceivedRow) error {
		var completed time.Time
		err := row.Scan(&a.ApplicationID, &a.StoreID, &a.ReceivedAt, &completed)
		a.ValidUntil = application.RetentionEndOf(completed)
		return err
	})
}

// SetupRow is a setup in the per-store list.
type SetupRow struct {
	SetupID   string    `json:"setup_id"`
	StoreID   string    `json:"store_id"`
	Status    string    `json:"status"`
	LastEvent string    `json:"last_event"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Setups lists the latest 500 setups of one store or ("") all, with one
// status or ("") any.
func (r Reader) Setups(ctx context.Context, store, status string) ([]SetupRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT setup_id, store_id, status, last_event, updated_at FROM `+setupsT+`
		WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR status = $2) ORDER BY updated_at DESC LIMIT 500`, store, status)
	return collect(rows, err, func(row pgx.CollectableRow, s *SetupRow) error {
		return row.Scan(&s.SetupID, &s.StoreID, &s.Status, &s.LastEvent, &s.UpdatedAt)
	})
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

// ConsentFilter selects consents; empty fields match all. From and To are
// request dates YYYY-MM-DD (the caller validates them).
type ConsentFilter struct {
	Store, Applicant, From, To string
}

// Consents lists the latest 500 consents matching f, newest request first.
func (r Reader) Consents(ctx context.Context, f ConsentFilter) ([]ConsentRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT consent_id, store_id, request_date, applicant_name, units, used, signed_pdf, recorded_at FROM `+consentsT+`
		WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR applicant_name ILIKE '%' || $2 || '%')
		AND ($3 = '' OR request_date >= $3::date) AND ($4 = '' OR request_date <= $4::date) ORDER BY request_date DESC LIMIT 500`,
		f.Store, f.Applicant, f.From, f.To)
	return collect(rows, err, func(row pgx.CollectableRow, c *ConsentRow) error {
		return row.Scan(&c.ConsentID, &c.StoreID, &c.RequestDate, &c.ApplicantName, &c.Units, &c.Used, &c.SignedPDF, &c.RecordedAt)
	})
}

// StatRow is issuance per store per day.
type StatRow struct {
	StoreID string    `json:"store_id"`
	Day     time.Time `json:"day"`
	Issued  int       `json:"issued"`
	Prints  int       `json:"prints"`
}

// Issuance lists certificate issuance per store per day, latest first, of
// one store or ("") all.
func (r Reader) Issuance(ctx context.Context, store string) ([]StatRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT store_id, day, issued, prints FROM `+issuanceT+`
		WHERE ($1 = '' OR store_id = $1) ORDER BY day DESC, store_id LIMIT 1000`, store)
	return collect(rows, err, func(row pgx.CollectableRow, s *StatRow) error {
		return row.Scan(&s.StoreID, &s.Day, &s.Issued, &s.Prints)
	})
}

// LatestCertificate returns the number of the application's latest
// certificate, or certificate.ErrNotFound when it has none (yet).
func (r Reader) LatestCertificate(ctx context.Context, applicationID string) (string, error) {
	var number string
	err := r.Pool.QueryRow(ctx, `SELECT number FROM `+certificatesT+` WHERE application_id=$1 ORDER BY issued_at DESC LIMIT 1`, applicationID).Scan(&number)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", certificate.ErrNotFound
	}
	return number, err
}

// ErrUnknownVerificationCode: no certificate has the code.
var ErrUnknownVerificationCode = domain.NotFound("unknown_verification_code", "No certificate has this verification code: the document is not genuine or the code was mistyped.")

// CertificateByCode returns the content of the certificate with the
// verification code, or ErrUnknownVerificationCode.
func (r Reader) CertificateByCode(ctx context.Context, code string) (certificate.Content, error) {
	var raw []byte
	var content certificate.Content
	err := r.Pool.QueryRow(ctx, `SELECT content FROM `+certificatesT+` WHERE verification_code=$1`, code).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return content, ErrUnknownVerificationCode
	}
	if err != nil {
		return content, err
	}
	return content, json.Unmarshal(raw, &content)
}

// AwaitingCompletedBy lists the applications awaiting reception that were
// completed at or before t: the expiry job's candidates. It reads the
// completion time, a fact, not the view's stored deadline, so a changed
// rule needs no rebuild; the domain decides on each candidate.
func (r Reader) AwaitingCompletedBy(ctx context.Context, t time.Time) ([]string, error) {
	return r.ids(ctx, `SELECT application_id FROM `+applicationsT+` WHERE status='completed' AND completed_at <= $1 ORDER BY completed_at`, t)
}

// ReceivedCompletedBy lists the received applications completed at or
// before t: the retention job's candidates (the domain decides on each).
func (r Reader) ReceivedCompletedBy(ctx context.Context, t time.Time) ([]string, error) {
	return r.ids(ctx, `SELECT application_id FROM `+applicationsT+` WHERE status='received' AND completed_at <= $1 ORDER BY completed_at`, t)
}

// ConsentsRetainedUntil lists the live consents whose view says their 5
// years end at or before t: the consent-retention job's candidates.
func (r Reader) ConsentsRetainedUntil(ctx context.Context, t time.Time) ([]string, error) {
	return r.ids(ctx, `SELECT consent_id FROM `+consentsT+` WHERE ended_at IS NULL AND retention_end <= $1 ORDER BY retention_end`, t)
}

func (r Reader) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := r.Pool.Query(ctx, query, args...)
	return collect(rows, err, func(row pgx.CollectableRow, id *string) error { return row.Scan(id) })
}
