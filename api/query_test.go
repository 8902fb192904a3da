package api_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
)

func TestQueryParametersAreDeclared(t *testing.T) {
	s, _ := newServer(t, nil)
	s.Handle(api.Op{Method: http.MethodGet, Path: "/v1/history", ID: "history", Tag: "test", Summary: "History.",
		Query: []api.Param{{Name: "reason", Required: true, Doc: "Why."}, api.Q("as_of", "When.")},
		Handler: func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]string{"as_of": c.QueryParam("as_of")})
		}})
	for _, tc := range []struct {
		path, code string
		status     int
	}{
		{"/v1/history?reason=audit&as_of=2026-04-10", "", 200},
		{"/v1/history?reason=audit", "", 200},
		{"/v1/history?as_of=2026-04-10", "missing_query_parameter", 400},
		{"/v1/history?reason=", "missing_query_parameter", 400},
		{"/v1/history?reason=audit&asof=2026-04-10", "unknown_query_parameter", 400},
		{"/v1/history?reason=audit&as_of=1&as_of=2", "repeated_query_parameter", 400},
		{"/healthz?verbose=1", "unknown_query_parameter", 400},
	} {
		w, m := do(t, s.Echo(), "GET", tc.path, "", "", nil)
		if w.Code != tc.status || (tc.code != "" && m["code"] != tc.code) {
			t.Errorf("GET %s: %d %v, want %d %s", tc.path, w.Code, m, tc.status, tc.code)
		}
	}
	// The same declaration documents the route.
	op := s.OpenAPI()["paths"].(map[string]any)["/v1/history"].(map[string]any)["get"].(map[string]any)
	params := op["parameters"].([]any)
	if len(params) != 2 || params[0].(map[string]any)["name"] != "reason" || params[0].(map[string]any)["required"] != true ||
		params[1].(map[string]any)["in"] != "query" {
		t.Errorf("documented parameters %v", params)
	}
}
