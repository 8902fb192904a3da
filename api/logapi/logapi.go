// Package logapi serves the transparency log as a C2SP tlog-tiles log under
// /v1/log (public: checkpoint, tiles, entry bundles, verifier key) and the
// regulators' audit export. It only translates HTTP; the log is read
// through Log and bundles are written by Export (both adapters/tlog, wired
// in cmd/gantry/app). Their errors are domain errors (not found, conflict),
// which api maps to problems.
package logapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain"
)

// Prefix is the log's URL prefix.
const Prefix = "/v1/log"

// Log reads what the log serves. Tile takes a C2SP path after the prefix
// ("tile/0/x001/234.p/17", "tile/entries/000").
type Log interface {
	Checkpoint(ctx context.Context) ([]byte, error)
	Tile(ctx context.Context, path string) ([]byte, error)
}

// Query selects the events of an audit export. Empty fields do not
// restrict; From is inclusive and To exclusive.
type Query struct {
	Subject string    `json:"subject,omitempty"`
	Store   string    `json:"store,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
}

// Service is the log's HTTP face.
type Service struct {
	Log         Log
	VerifierKey string
	// Export streams a bundle to w; it writes nothing before it knows it
	// can (so a refusal is still a problem response).
	Export func(ctx context.Context, q Query, w io.Writer) error
}

// Cache-Control values (C2SP tlog-tiles): a tile or entry bundle, full or
// partial, never changes once served; the checkpoint moves every second.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheCheckpoint = "public, max-age=1"
)

// Routes registers the log's routes.
func (s *Service) Routes(srv *api.Server) {
	srv.Handle(api.Op{Method: http.MethodGet, Path: Prefix + "/checkpoint", ID: "logCheckpoint", Tag: "log", Produces: "text/plain",
		Summary: "The newest signed checkpoint (C2SP tlog-checkpoint as a signed note, Ed25519). Public.", Handler: s.checkpoint})
	srv.Handle(api.Op{Method: http.MethodGet, Path: Prefix + "/key", ID: "logKey", Tag: "log", Produces: "text/plain",
		Summary: "The log's verifier key (note verifier key: name+hash+base64 key). Public.", Handler: s.key})
	srv.Handle(api.Op{Method: http.MethodGet, Path: Prefix + "/tile/*", ID: "logTile", Tag: "log", Produces: "application/octet-stream",
		Summary: "A C2SP tlog-tiles tile: tile/<L>/<N>[.p/<W>] (hashes) or tile/entries/<N>[.p/<W>] (uint16-length-prefixed entries). Public.", Handler: s.tile})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/audit/exports", ID: "auditExport", Tag: "audit", Produces: "application/x-tar",
		Roles: []api.Role{api.RoleRegulator, api.RoleOperatorAdmin},
		Query: []api.Param{
			api.Q("subject", "a data subject: application ID, consent ID, contract number…"),
			api.Q("store", "a store ID"),
			api.Q("from", "first instant: a date (Asia/Tokyo midnight) or an RFC 3339 time"),
			api.Q("to", "end (exclusive): a date (Asia/Tokyo midnight) or an RFC 3339 time"),
		},
		Summary: "An audit-export bundle (tar, docs/audit-export.md) of the events for subject=, store=, from=&to= (dates in Asia/Tokyo or RFC 3339): entries, canonical records (personal data only as ciphertext), inclusion proofs, the signed checkpoint and the verifier key. Check it offline with gantry audit verify.",
		Handler: s.export})
}

func (s *Service) checkpoint(c echo.Context) error {
	note, err := s.Log.Checkpoint(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", cacheCheckpoint)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", note)
}

func (s *Service) key(c echo.Context) error {
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(s.VerifierKey+"\n"))
}

func (s *Service) tile(c echo.Context) error {
	data, err := s.Log.Tile(c.Request().Context(), "tile/"+c.Param("*"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", cacheImmutable)
	return c.Blob(http.StatusOK, "application/octet-stream", data)
}

func (s *Service) export(c echo.Context) error {
	q, err := exportQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Nothing is written before the first byte of the bundle, so a refusal
	// (no checkpoint yet) is still a problem response.
	w := &lazyWriter{c: c, name: "gantry-audit-export.tar"}
	return s.Export(ctx, q, w)
}

func exportQuery(c echo.Context) (Query, error) {
	q := Query{Subject: strings.TrimSpace(c.QueryParam("subject")), Store: strings.TrimSpace(c.QueryParam("store"))}
	var err error
	if q.From, err = instant(c.QueryParam("from")); err != nil {
		return q, api.BadRequest("bad_from", "from must be a date (2026-04-01, Asia/Tokyo midnight) or an RFC 3339 time.")
	}
	if q.To, err = instant(c.QueryParam("to")); err != nil {
		return q, api.BadRequest("bad_to", "to must be a date (2026-05-01, Asia/Tokyo midnight, exclusive) or an RFC 3339 time.")
	}
	if q.Subject == "" && q.Store == "" && q.From.IsZero() && q.To.IsZero() {
		return q, api.BadRequest("no_filter", "Say what to export: subject=, store=, or a period from=&to=.")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, api.BadRequest("bad_period", "from must be before to (to is exclusive).")
	}
	return q, nil
}

// instant parses a Tokyo date or an RFC 3339 time; "" is the zero time.
func instant(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, domain.Tokyo); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// lazyWriter sends the headers with the first byte of the bundle.
type lazyWriter struct {
	c       echo.Context
	name    string
	started bool
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, "application/x-tar")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
		h.Set("Cache-Control", "no-store")
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}
