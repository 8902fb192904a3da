// Package auditapi is the auditors' HTTP API: the event history of any
// stream, any aggregate's state as of an instant, the proxy consents a store
// held on a date and what changed in a period, and the list of audit reads.
// Every route requires a reason and records the read (commands/audit)
// before it answers; handlers only translate.
package auditapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands"
	cmdaudit "github.com/gantry-etc/gantry/commands/audit"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/audit"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

// Service is what the routes call.
type Service struct {
	Record  cmdaudit.RecordReadHandler
	Reader  projaudit.Reader
	Clock   commands.Clock
	WaitFor func(ctx context.Context, pos es.Position) error
}

// auditors may read history: auditors and the operator admin. Regulators
// get the transparency log and audit exports (api/logapi), not these
// routes, which show personal data; customers and stores get neither.
var auditors = []api.Role{api.RoleAuditor, api.RoleOperatorAdmin}

var (
	reason = api.Param{Name: "reason", Required: true, Doc: "Why you read this (recorded with the read in the audit trail; no personal data please)."}
	asOf   = api.Q("as_of", "An instant (RFC 3339, e.g. 2026-04-10T12:00:00+09:00) or a Tokyo date YYYY-MM-DD meaning the end of that day; default now.")
	cursor = api.Q("cursor", "Where the next page starts (from the next link).")
	limit  = api.Q("limit", "Page size, 1 to 500 (default 100).")
)

// Routes registers the audit routes.
func (s *Service) Routes(srv *api.Server) {
	add := func(op api.Op) { op.Tag, op.Roles = "audit", auditors; srv.Handle(op) }
	get := http.MethodGet
	add(api.Op{Method: get, Path: "/v1/audit/streams/:stream/events", ID: "auditStreamEvents",
		Summary:  "The event history of any stream (application-…, consent-…, setup-…, certificate-…, contract-…, card-…, invoice-…): type, version, global position, recorded time, actor, correlation and causation, decoded data with personal fields opened or marked erased. Paged (next link).",
		Query:    []api.Param{reason, asOf, cursor, limit},
		Response: EventsResponse{}, Handler: s.events})
	add(api.Op{Method: get, Path: "/v1/audit/streams/:stream/state", ID: "auditStreamState",
		Summary:  "An aggregate's state as of an instant (its events recorded by then, folded by the domain) and the version it had then.",
		Query:    []api.Param{reason, asOf},
		Response: projaudit.StateView{}, Handler: s.state})
	add(api.Op{Method: get, Path: "/v1/audit/consents", ID: "auditConsentsAsOf",
		Summary:  "Every proxy consent (委任状) a store held on a Tokyo date, each in its state at the end of that day: units stated and used, period, filings made under it by then, retention end. Paged in consent ID order (next link).",
		Query:    []api.Param{reason, {Name: "store", Required: true, Doc: "The store ID."}, {Name: "date", Required: true, Doc: "The Tokyo date, YYYY-MM-DD."}},
		Response: ConsentsResponse{}, Paged: true, Handler: s.consents})
	add(api.Op{Method: get, Path: "/v1/audit/consents/changes", ID: "auditConsentChanges",
		Summary: "What changed in a store's proxy consents between two Tokyo dates (both included): each recording, unit used and retention end, with the state it made. Paged in recorded order (next link).",
		Query: []api.Param{reason, {Name: "store", Required: true, Doc: "The store ID."}, {Name: "from", Required: true, Doc: "First Tokyo date, YYYY-MM-DD."},
			{Name: "to", Required: true, Doc: "Last Tokyo date, YYYY-MM-DD."}},
		Response: ChangesResponse{}, Paged: true, Handler: s.changes})
	add(api.Op{Method: get, Path: "/v1/audit/reads", ID: "auditReads",
		Summary: "The recorded audit reads, newest first: who read which history, when and why (this listing is recorded too).",
		Query: []api.Param{reason, api.Q("reader", "Only this reader's (staff ID) reads."), api.Q("from", "First Tokyo date, YYYY-MM-DD."),
			api.Q("to", "Last Tokyo date, YYYY-MM-DD."), cursor, limit},
		Response: ReadsResponse{}, Handler: s.reads})
}

// EventsResponse is a page of a stream's history.
type EventsResponse struct {
	Stream string                `json:"stream"`
	AsOf   *time.Time            `json:"as_of,omitempty"`
	Events []projaudit.EventView `json:"events"`
	Next   string                `json:"next,omitempty"` // URL of the next page
}

// ConsentsResponse is a page of the consents a store held on a date.
type ConsentsResponse struct {
	Store    string                   `json:"store"`
	Date     string                   `json:"date"`
	Consents []projaudit.ConsentState `json:"consents"`
	Next     string                   `json:"next,omitempty"` // URL of the next page (also in the Link header)
}

// ChangesResponse is what changed in a store's consents in a period.
type ChangesResponse struct {
	Store   string                    `json:"store"`
	From    string                    `json:"from"`
	To      string                    `json:"to"`
	Changes []projaudit.ConsentChange `json:"changes"`
	Next    string                    `json:"next,omitempty"` // URL of the next page (also in the Link header)
}

// ReadsResponse is a page of recorded audit reads.
type ReadsResponse struct {
	Reads []projaudit.ReadRow `json:"reads"`
	Next  string              `json:"next,omitempty"` // URL of the next page
}

// record records the read before it is answered.
func (s *Service) record(c echo.Context, query, target string) (es.AppendResult, error) {
	params := map[string]string{}
	for k, v := range c.QueryParams() {
		if k != "reason" && len(v) > 0 {
			params[k] = v[0]
		}
	}
	return s.Record.Handle(api.Actor(c), cmdaudit.RecordRead{Query: query, Target: target, Params: params, Reason: c.QueryParam("reason")})
}

// recordAndWait records the read, then waits until the projectors have
// applied every event committed before it: the answer includes everything
// the reader could know of when asking.
func (s *Service) recordAndWait(c echo.Context, query, target string) error {
	res, err := s.record(c, query, target)
	if err != nil {
		return err
	}
	return s.WaitFor(c.Request().Context(), res.Position)
}

func (s *Service) events(c echo.Context) error {
	stream := c.Param("stream")
	at, err := s.instant(c)
	if err != nil {
		return err
	}
	from, err := intParam(c, "cursor", 1, 1, 1<<62)
	if err != nil {
		return err
	}
	n, err := intParam(c, "limit", 100, 1, projaudit.MaxPage)
	if err != nil {
		return err
	}
	if _, err := s.record(c, audit.QueryStreamEvents, stream); err != nil {
		return err
	}
	page, err := s.Reader.StreamEvents(c.Request().Context(), stream, from, int(n), at)
	if err != nil {
		return err
	}
	out := EventsResponse{Stream: page.Stream, AsOf: page.AsOf, Events: page.Events}
	if page.Next > 0 {
		out.Next = nextLink(c, page.Next)
		c.Response().Header().Set("Link", "<"+out.Next+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) state(c echo.Context) error {
	at, err := s.instant(c)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = s.Clock.Now()
	}
	if _, err := s.record(c, audit.QueryStreamState, c.Param("stream")); err != nil {
		return err
	}
	v, err := s.Reader.StateAsOf(c.Request().Context(), c.Param("stream"), at)
	if err != nil {
		return err
	}
	api.SetVersion(c, v.Version)
	return c.JSON(http.StatusOK, v)
}

func (s *Service) consents(c echo.Context) error {
	day, err := dateParam(c, "date")
	if err != nil {
		return err
	}
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	store := c.QueryParam("store")
	if err := s.recordAndWait(c, audit.QueryConsentsAsOf, store); err != nil {
		return err
	}
	rows, err := s.Reader.ConsentsAsOf(c.Request().Context(), store, day, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ConsentsResponse{Store: store, Date: day.String(), Consents: rows.Items, Next: api.NextLink(c, rows.Next)})
}

func (s *Service) changes(c echo.Context) error {
	from, err := dateParam(c, "from")
	if err != nil {
		return err
	}
	to, err := dateParam(c, "to")
	if err != nil {
		return err
	}
	if to.Before(from) {
		return api.BadRequest("bad_period", "to ("+to.String()+") is before from ("+from.String()+"); give the first day, then the last.")
	}
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	store := c.QueryParam("store")
	if err := s.recordAndWait(c, audit.QueryConsentChanges, store); err != nil {
		return err
	}
	rows, err := s.Reader.ConsentChanges(c.Request().Context(), store, from, to, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ChangesResponse{Store: store, From: from.String(), To: to.String(), Changes: rows.Items, Next: api.NextLink(c, rows.Next)})
}

func (s *Service) reads(c echo.Context) error {
	f := projaudit.ReadFilter{Reader: c.QueryParam("reader")}
	var err error
	for _, d := range []struct {
		name string
		into *domain.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if c.QueryParam(d.name) != "" {
			if *d.into, err = dateParam(c, d.name); err != nil {
				return err
			}
		}
	}
	if f.Before, err = intParam(c, "cursor", 0, 1, 1<<62); err != nil {
		return err
	}
	n, err := intParam(c, "limit", 100, 1, projaudit.MaxPage)
	if err != nil {
		return err
	}
	f.Limit = int(n)
	// This read, and every one before it, is in the list.
	if err := s.recordAndWait(c, audit.QueryReads, ""); err != nil {
		return err
	}
	page, err := s.Reader.Reads(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := ReadsResponse{Reads: page.Reads}
	if page.Next > 0 {
		out.Next = nextLink(c, page.Next)
		c.Response().Header().Set("Link", "<"+out.Next+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, out)
}

// instant parses as_of: RFC 3339, or a Tokyo date meaning the end of that
// day (its last nanosecond). Absent: the zero time.
func (s *Service) instant(c echo.Context) (time.Time, error) {
	v := c.QueryParam("as_of")
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := domain.ParseDate(v); err == nil {
		return d.AddDays(1).Start().Add(-time.Nanosecond), nil
	}
	return time.Time{}, api.BadRequest("bad_as_of", "as_of must be an instant (RFC 3339, e.g. 2026-04-10T12:00:00+09:00) or a date YYYY-MM-DD (the end of that day in Tokyo).")
}

func dateParam(c echo.Context, name string) (domain.Date, error) {
	d, err := domain.ParseDate(c.QueryParam(name))
	if err != nil {
		return d, api.BadRequest("bad_date", name+" must be a date YYYY-MM-DD (Tokyo).")
	}
	return d, nil
}

func intParam(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, api.BadRequest("bad_"+name, name+" must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10)+".")
	}
	return n, nil
}

// nextLink is this request's path and query with cursor set to next.
func nextLink(c echo.Context, next int64) string {
	q := url.Values{}
	for k, v := range c.QueryParams() {
		q[k] = v
	}
	q.Set("cursor", strconv.FormatInt(next, 10))
	return strings.TrimSuffix(c.Request().URL.Path, "?") + "?" + q.Encode()
}
