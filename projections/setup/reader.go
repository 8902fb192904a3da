package setup

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
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
//
// Lists are read a page at a time (projections.PageRequest, keyset on a
// stable order). Personal values sealed in a view are opened with keys
// fetched fresh for the page (Keys), so a shredded subject reads as erased
// at once, whichever process shredded it.
type Reader struct {
	Pool *pgxpool.Pool
	Keys KeyFetcher
}

// KeyFetcher fetches the keys of a page's data subjects in one read
// (es.Sealer.Keys).
type KeyFetcher interface {
	Keys(ctx context.Context, subjects []string) (*es.Keyring, error)
}

// ts is a timestamp as a cursor key (microseconds survive, as PostgreSQL
// keeps them).
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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
	ApplicationID string `json:"application_id"`
	ByProxy       bool   `json:"by_proxy"`
	// AppliedStore is the store named by the QR link the customer applied
	// from (web applications; "" for none).
	AppliedStore string    `json:"applied_store,omitempty"`
	CompletedAt  time.Time `json:"completed_at"`
	Deadline     time.Time `json:"deadline"`
	DaysLeft     int       `json:"days_left"`
}

// Awaiting lists the applications awaiting reception whose deadline is after
// now, soonest first; store "" means every store's, a store sees its own
// proxy filings and the web applications whose QR link named it. Deadlines
// come from the domain's rule applied to the completion time, not from a
// column, so a changed rule needs no rebuild.
func (r Reader) Awaiting(ctx context.Context, store string, now time.Time, page projections.PageRequest) (projections.Page[AwaitingRow], error) {
	rows, err := r.Pool.Query(ctx, `SELECT application_id, by_proxy, coalesce(applied_store, ''), completed_at FROM `+applicationsT+`
		WHERE status='completed' AND completed_at > $1 AND ($2 = '' OR filing_store = $2 OR applied_store = $2)
		AND ($3 = '' OR (completed_at, application_id) > (NULLIF($3, '')::timestamptz, $4)) ORDER BY completed_at, application_id LIMIT $5`,
		application.ExpiryDueIfCompletedBy(now), store, page.Key(0), page.Key(1), page.Limit())
	out, err := collect(rows, err, func(row pgx.CollectableRow, a *AwaitingRow) error {
		if err := row.Scan(&a.ApplicationID, &a.ByProxy, &a.AppliedStore, &a.CompletedAt); err != nil {
			return err
		}
		a.Deadline = application.ReceptionDeadlineOf(a.CompletedAt)
		a.DaysLeft = int(a.Deadline.Sub(now).Hours() / 24)
		return nil
	})
	return projections.Paginate(page, out, func(a AwaitingRow) []string { return []string{ts(a.CompletedAt), a.ApplicationID} }), err
}

// ReceivedRow is a received application and how long it is valid.
type ReceivedRow struct {
	ApplicationID string    `json:"application_id"`
	StoreID       string    `json:"store_id"`
	ReceivedAt    time.Time `json:"received_at"`
	ValidUntil    time.Time `json:"valid_until"`
}

// Received lists the received applications, latest first, of one
// receiving store or ("") all, valid until the domain's retention end.
func (r Reader) Received(ctx context.Context, store string, page projections.PageRequest) (projections.Page[ReceivedRow], error) {
	rows, err := r.Pool.Query(ctx, `SELECT application_id, receiving_store, received_at, completed_at FROM `+applicationsT+`
		WHERE status='received' AND ($1 = '' OR receiving_store = $1)
		AND ($2 = '' OR (received_at, application_id) < (NULLIF($2, '')::timestamptz, $3)) ORDER BY received_at DESC, application_id DESC LIMIT $4`,
		store, page.Key(0), page.Key(1), page.Limit())
	out, err := collect(rows, err, func(row pgx.CollectableRow, a *ReceivedRow) error {
		var completed time.Time
		err := row.Scan(&a.ApplicationID, &a.StoreID, &a.ReceivedAt, &completed)
		a.ValidUntil = application.RetentionEndOf(completed)
		return err
	})
	return projections.Paginate(page, out, func(a ReceivedRow) []string { return []string{ts(a.ReceivedAt), a.ApplicationID} }), err
}

// SetupRow is a setup in the per-store list.
type SetupRow struct {
	SetupID   string    `json:"setup_id"`
	StoreID   string    `json:"store_id"`
	Status    string    `json:"status"`
	LastEvent string    `json:"last_event"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Setups lists the setups of one store or ("") all, with one status or
// ("") any, latest update first.
func (r Reader) Setups(ctx context.Context, store, status string, page projections.PageRequest) (projections.Page[SetupRow], error) {
	rows, err := r.Pool.Query(ctx, `SELECT setup_id, store_id, status, last_event, updated_at FROM `+setupsT+`
		WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR status = $2)
		AND ($3 = '' OR (updated_at, setup_id) < (NULLIF($3, '')::timestamptz, $4)) ORDER BY updated_at DESC, setup_id DESC LIMIT $5`,
		store, status, page.Key(0), page.Key(1), page.Limit())
	out, err := collect(rows, err, func(row pgx.CollectableRow, s *SetupRow) error {
		return row.Scan(&s.SetupID, &s.StoreID, &s.Status, &s.LastEvent, &s.UpdatedAt)
	})
	return projections.Paginate(page, out, func(s SetupRow) []string { return []string{ts(s.UpdatedAt), s.SetupID} }), err
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

// Consents lists the consents matching f, newest request first. The
// applicant's name is sealed in the view, so the applicant filter (a
// case-insensitive part of the name) is applied here, after opening, to
// chunks of rows in the list's order until the page is full; a consent
// whose retention ended has no name and never matches it.
func (r Reader) Consents(ctx context.Context, f ConsentFilter, page projections.PageRequest) (projections.Page[ConsentRow], error) {
	key := func(c ConsentRow) []string { return []string{c.RequestDate.Format(time.DateOnly), c.ConsentID} }
	var out []ConsentRow
	after := page
	chunk := page.Limit()
	if f.Applicant != "" {
		chunk = projections.MaxPageSize
	}
	for {
		rows, err := r.Pool.Query(ctx, `SELECT consent_id, store_id, request_date, parties, units, used, signed_pdf, recorded_at FROM `+consentsT+`
			WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR request_date >= NULLIF($2, '')::date) AND ($3 = '' OR request_date <= NULLIF($3, '')::date)
			AND ($4 = '' OR (request_date, consent_id) < (NULLIF($4, '')::date, $5)) ORDER BY request_date DESC, consent_id DESC LIMIT $6`,
			f.Store, f.From, f.To, after.Key(0), after.Key(1), chunk)
		type sealedRow struct {
			ConsentRow
			parties []byte
		}
		got, err := collect(rows, err, func(row pgx.CollectableRow, c *sealedRow) error {
			return row.Scan(&c.ConsentID, &c.StoreID, &c.RequestDate, &c.parties, &c.Units, &c.Used, &c.SignedPDF, &c.RecordedAt)
		})
		if err != nil {
			return projections.Page[ConsentRow]{}, err
		}
		subjects := make([]string, len(got))
		for i, c := range got {
			subjects[i] = c.ConsentID
		}
		ring, err := r.Keys.Keys(ctx, subjects)
		if err != nil {
			return projections.Page[ConsentRow]{}, err
		}
		for _, c := range got {
			plain, ok, err := ring.Open(c.ConsentID, c.parties)
			if err != nil {
				return projections.Page[ConsentRow]{}, err
			}
			if ok {
				var p parties
				if err := json.Unmarshal(plain, &p); err != nil {
					return projections.Page[ConsentRow]{}, err
				}
				c.ApplicantName = &p.Name
			}
			if f.Applicant != "" && (c.ApplicantName == nil || !containsFold(*c.ApplicantName, f.Applicant)) {
				continue
			}
			out = append(out, c.ConsentRow)
			if len(out) == page.Limit() {
				return projections.Paginate(page, out, key), nil
			}
		}
		if len(got) < chunk {
			return projections.Paginate(page, out, key), nil
		}
		after.After = []string{got[len(got)-1].RequestDate.Format(time.DateOnly), got[len(got)-1].ConsentID}
	}
}

func containsFold(s, part string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(part))
}

// StatRow is issuance per store per day.
type StatRow struct {
	StoreID string    `json:"store_id"`
	Day     time.Time `json:"day"`
	Issued  int       `json:"issued"`
	Prints  int       `json:"prints"`
}

// Issuance lists certificate issuance per store per day, latest first
// (stores in order within a day), of one store or ("") all.
func (r Reader) Issuance(ctx context.Context, store string, page projections.PageRequest) (projections.Page[StatRow], error) {
	rows, err := r.Pool.Query(ctx, `SELECT store_id, day, issued, prints FROM `+issuanceT+`
		WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR day < NULLIF($2, '')::date OR (day = NULLIF($2, '')::date AND store_id > $3))
		ORDER BY day DESC, store_id LIMIT $4`, store, page.Key(0), page.Key(1), page.Limit())
	out, err := collect(rows, err, func(row pgx.CollectableRow, s *StatRow) error {
		return row.Scan(&s.StoreID, &s.Day, &s.Issued, &s.Prints)
	})
	return projections.Paginate(page, out, func(s StatRow) []string { return []string{s.Day.Format(time.DateOnly), s.StoreID} }), err
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

// Verification is what the public check shows of a certificate: its content
// and status. Status is "valid" while the application's retention runs
// and "expired" once it has ended; the plate and OBU number are in Content
// only while it is valid (they are erased with the application, and never
// shown after the end of retention even before the job erases them).
// "revoked" is not used: Gantry has no revocation of certificates.
type Verification struct {
	Status  string
	Content certificate.Content
}

// CertificateByCode returns the certificate with the verification code as
// the public check shows it at now, or ErrUnknownVerificationCode.
func (r Reader) CertificateByCode(ctx context.Context, code string, now time.Time) (Verification, error) {
	var raw, vehicle []byte
	var appID string
	var status *string
	var completed *time.Time
	var v Verification
	err := r.Pool.QueryRow(ctx, `SELECT c.content, c.vehicle, c.application_id, a.status, a.completed_at FROM `+certificatesT+` c
		LEFT JOIN `+applicationsT+` a ON a.application_id = c.application_id WHERE c.verification_code=$1`, code).Scan(&raw, &vehicle, &appID, &status, &completed)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrUnknownVerificationCode
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v.Content); err != nil {
		return v, err
	}
	v.Status = "valid"
	if status != nil && (*status == "retention_ended" || *status == "expired") || completed != nil && !now.Before(application.RetentionEndOf(*completed)) {
		v.Status = "expired"
		return v, nil
	}
	ring, err := r.Keys.Keys(ctx, []string{appID})
	if err != nil {
		return v, err
	}
	plain, ok, err := ring.Open(appID, vehicle)
	if err != nil {
		return v, err
	}
	if !ok {
		v.Status = "expired"
		return v, nil
	}
	var ids certificate.VehicleIDs
	if err := json.Unmarshal(plain, &ids); err != nil {
		return v, err
	}
	v.Content.Plate, v.Content.OBUNumber = ids.Plate, ids.OBUNumber
	return v, nil
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
