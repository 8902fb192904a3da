package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	cmdaudit "github.com/gantry-etc/gantry/commands/audit"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/audit"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

type auditPage struct {
	Form   *form
	Asked  bool
	Events []projaudit.EventView
	More   bool
	State  string
	// StateVersion is the stream's version at the instant.
	StateVersion int64
	StateNote    string
	// Proof is the events' status against the newest signed checkpoint
	// (HasProof false: no transparency log); ProofError says why they
	// could not be proven.
	Proof      projaudit.ProofStatus
	HasProof   bool
	ProofError string
}

// ProofOf is an event's proof status.
func (p auditPage) ProofOf(version int64) projaudit.EventProof { return p.Proof.Events[version] }

// auditHome: a stream's history as a timeline with its actors, and the
// aggregate's state as of a date (end of that Tokyo day) chosen with a date
// picker. Every look is recorded as an audit read with its reason first,
// as the audit API does (commands/audit).
func (s *Site) auditHome(c echo.Context) error {
	f := newForm()
	f.read(c, "stream", "reason", "as_of")
	pg := auditPage{Form: f}
	if f.V("stream") == "" {
		return s.render(c, http.StatusOK, "audit", pg)
	}
	pg.Asked = true
	var asOf time.Time
	if v := f.V("as_of"); v != "" {
		d, err := domain.ParseDate(v)
		if err != nil {
			f.Errors["as_of"] = messages["bad_date"]
			return s.render(c, http.StatusUnprocessableEntity, "audit", pg)
		}
		asOf = d.AddDays(1).Start().Add(-time.Nanosecond)
	}
	params := map[string]string{"as_of": f.V("as_of")}
	ctx := c.Request().Context()
	res, err := s.Audit.Record.Handle(actor(c), cmdaudit.RecordRead{Query: audit.QueryStreamEvents, Target: f.V("stream"), Params: params, Reason: f.V("reason")})
	if err != nil {
		if err := f.fail(err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "audit", pg)
	}
	s.wait(ctx, res)
	page, err := s.Audit.Reader.StreamEvents(ctx, f.V("stream"), 1, projaudit.MaxPage, asOf)
	if err != nil {
		if err := f.fail(err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "audit", pg)
	}
	pg.Events, pg.More = page.Events, page.Next != 0
	// Each event is proven against the newest signed checkpoint (an RFC
	// 6962 inclusion proof checked against its signed root).
	switch st, ok, err := s.Audit.Reader.Proofs(ctx, pg.Events); {
	case err != nil:
		if s.Log != nil {
			s.Log.Error("audit page: inclusion proof failed", "stream", f.V("stream"), "err", err.Error())
		}
		pg.HasProof, pg.ProofError = true, err.Error()
	case ok:
		pg.Proof, pg.HasProof = st, true
	}
	at := asOf
	if at.IsZero() {
		at = s.Clock.Now()
	}
	if _, err := s.Audit.Record.Handle(actor(c), cmdaudit.RecordRead{Query: audit.QueryStreamState, Target: f.V("stream"), Params: params, Reason: f.V("reason")}); err != nil {
		return err
	}
	switch st, err := s.Audit.Reader.StateAsOf(ctx, f.V("stream"), at); {
	case err == nil:
		b, _ := json.MarshalIndent(st.State, "", "  ")
		pg.State, pg.StateVersion = string(b), st.Version
	default:
		pg.StateNote = message(err)
	}
	return s.render(c, http.StatusOK, "audit", pg)
}
