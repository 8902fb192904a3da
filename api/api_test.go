package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type okHealth struct{}

func (okHealth) Ready(context.Context) (bool, []string) { return true, nil }
func (okHealth) Live() (bool, []string)                 { return true, nil }

var errCardInUse = domain.Conflict("card_in_use", "A card is already in use for this vehicle.")

func newServer(t *testing.T, pool *pgxpool.Pool) (*api.Server, *int64) {
	s := api.New(api.Config{
		Tokens: api.NewTokens([]byte("k"), time.Hour, time.Now), Pool: func() *pgxpool.Pool { return pool },
		Health: okHealth{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: prometheus.NewRegistry(),
	})
	var calls int64
	type req struct {
		Plate string `json:"plate"`
	}
	s.Handle(api.Op{Method: http.MethodPost, Path: "/v1/things/:id", ID: "doThing", Tag: "test", Summary: "Do a thing.",
		Roles: []api.Role{api.RoleStaff}, Command: true, Request: req{}, Response: map[string]any{},
		Handler: func(c echo.Context) error {
			var r req
			if err := api.Bind(c, &r); err != nil {
				return err
			}
			n := atomic.AddInt64(&calls, 1)
			switch {
			case r.Plate == "conflict":
				return errCardInUse.With("vehicle", "")
			case r.Plate == "stale":
				ifMatch, err := api.IfMatch(c)
				if err != nil {
					return err
				}
				return commands.CheckIfMatch("thing-1", ifMatch, 4)
			case r.Plate == "down":
				return fmt.Errorf("append: %w", es.ErrUnavailable)
			}
			return c.JSON(http.StatusCreated, map[string]any{"call": n, "plate": r.Plate})
		}})
	return s, &calls
}

func do(t *testing.T, h http.Handler, method, path, token, body string, hdr map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w, m
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	s, _ := newServer(t, nil)
	doc := s.OpenAPI()
	paths := doc["paths"].(map[string]any)
	for _, r := range s.Echo().Routes() {
		item, ok := paths[api.OpenAPIPath(r.Path)].(map[string]any)
		if !ok || item[strings.ToLower(r.Method)] == nil {
			t.Errorf("route %s %s is not in /openapi.json", r.Method, r.Path)
		}
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	n := 0
	for _, item := range paths {
		n += len(item.(map[string]any))
	}
	if n != len(s.Echo().Routes()) {
		t.Fatalf("%d operations documented, %d routes served", n, len(s.Echo().Routes()))
	}
}

// Every operation documents the problem answers it can give, from the table
// that maps errors: the authenticated command gets the lot (409 with the
// VersionConflict schema), the public health check only 503.
func TestOpenAPIDocumentsProblems(t *testing.T) {
	s, _ := newServer(t, nil)
	doc := s.OpenAPI()
	responses := func(path, method string) []string {
		op := doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
		var codes []string
		for code, r := range op["responses"].(map[string]any) {
			ref, _ := r.(map[string]any)["$ref"].(string)
			if code != "default" && code[0] != '2' && !strings.HasPrefix(ref, "#/components/responses/") {
				t.Errorf("%s %s %s is not a documented problem: %v", method, path, code, r)
			}
			codes = append(codes, code)
		}
		slices.Sort(codes)
		return codes
	}
	if got, want := responses("/v1/things/{id}", "post"), []string{"200", "400", "401", "403", "404", "409", "410", "413", "422", "423", "503", "default"}; !slices.Equal(got, want) {
		t.Errorf("command responses %v, want %v", got, want)
	}
	if got, want := responses("/healthz", "get"), []string{"200", "503", "default"}; !slices.Equal(got, want) {
		t.Errorf("health responses %v, want %v", got, want)
	}
	comps := doc["components"].(map[string]any)["responses"].(map[string]any)
	conflict := comps["Conflict"].(map[string]any)["content"].(map[string]any)["application/problem+json"].(map[string]any)["schema"].(map[string]any)
	if conflict["$ref"] != "#/components/schemas/VersionConflict" {
		t.Errorf("409 schema %v", conflict)
	}
	if _, ok := comps["Unavailable"].(map[string]any)["headers"].(map[string]any)["Retry-After"]; !ok {
		t.Error("503 does not document Retry-After")
	}
}

func TestProblemsAndAuth(t *testing.T) {
	s, _ := newServer(t, pgtest.Pool(t))
	staff := s.Tokens().Issue(api.Principal{Role: api.RoleStaff, Subject: "st-1", Store: "S1"})
	finance := s.Tokens().Issue(api.Principal{Role: api.RoleFinance, Subject: "f-1"})
	cases := []struct {
		name, token, body string
		hdr               map[string]string
		status            int
		code              string
	}{
		{"no_token", "", `{"plate":"x"}`, nil, 401, "unauthenticated"},
		{"forged_token", staff + "x", `{"plate":"x"}`, nil, 401, "unauthenticated"},
		{"wrong_role", finance, `{"plate":"x"}`, nil, 403, "forbidden_role"},
		{"malformed_json", staff, `{"plate":`, nil, 400, "malformed_json"},
		{"unknown_field", staff, `{"plate":"x","extra":1}`, nil, 400, "malformed_json"},
		{"domain_conflict", staff, `{"plate":"conflict"}`, nil, 409, "card_in_use"},
		{"stale_if_match", staff, `{"plate":"stale"}`, map[string]string{"If-Match": `"3"`}, 409, "version_conflict"},
		{"bad_if_match", staff, `{"plate":"stale"}`, map[string]string{"If-Match": `"x"`}, 400, "bad_if_match"},
		{"database_down", staff, `{"plate":"down"}`, nil, 503, "unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, m := do(t, s.Echo(), "POST", "/v1/things/1", c.token, c.body, c.hdr)
			if w.Code != c.status || m["code"] != c.code {
				t.Fatalf("status %d code %v, want %d %s: %s", w.Code, m["code"], c.status, c.code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			detail, _ := m["detail"].(string)
			typ, _ := m["type"].(string)
			rid, _ := m["request_id"].(string)
			if detail == "" || typ == "" || rid == "" {
				t.Fatalf("problem lacks detail/type/request id: %v", m)
			}
		})
	}
	w, m := do(t, s.Echo(), "POST", "/v1/things/1", staff, `{"plate":"stale"}`, map[string]string{"If-Match": `"3"`})
	if m["current_version"] != float64(4) {
		t.Fatalf("409 must carry the current version: %s", w.Body)
	}
}

// An oversize event is a 413 problem that says what to do, never a 500.
func TestEventTooLargeIsA413(t *testing.T) {
	err := fmt.Errorf("issuing: %w", &es.EventTooLargeError{Stream: "invoice-1", Type: "invoice.issued", Size: 70000, Limit: es.MaxEventSize})
	p := api.ProblemFor(err)
	if p.Status != http.StatusRequestEntityTooLarge || p.Code != "event_too_large" || !strings.Contains(p.Detail, "invoice.issued") || !strings.Contains(p.Detail, "Nothing was written") {
		t.Fatalf("problem: %+v", p)
	}
}
