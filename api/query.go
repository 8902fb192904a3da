package api

import (
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// Param is a query parameter an operation reads. Op.Query lists them: the
// same list documents the operation in /openapi.json and refuses any other
// parameter with 400 unknown_query_parameter, so a parameter the server
// does not understand (?as_of= on a route that has no such thing) is never
// silently ignored.
type Param struct {
	Name     string
	Doc      string
	Required bool // missing or empty: 400 missing_query_parameter
}

// Q is an optional query parameter.
func Q(name, doc string) Param { return Param{Name: name, Doc: doc} }

// checkQuery refuses query parameters that are not in params, repeated
// ones, and missing required ones.
func checkQuery(params []Param) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			qs := c.QueryParams()
			var unknown []string
			for name, vs := range qs {
				i := slices.IndexFunc(params, func(p Param) bool { return p.Name == name })
				if i < 0 {
					unknown = append(unknown, name)
					continue
				}
				if len(vs) > 1 {
					return BadRequest("repeated_query_parameter", "The query parameter "+name+" is given "+itoa(len(vs))+" times; give it once.")
				}
			}
			if len(unknown) > 0 {
				sort.Strings(unknown)
				return BadRequest("unknown_query_parameter", "This route does not understand the query parameter(s) "+strings.Join(unknown, ", ")+
					"; it accepts "+accepted(params)+". Remove them (see /openapi.json).")
			}
			for _, p := range params {
				if p.Required && strings.TrimSpace(qs.Get(p.Name)) == "" {
					return BadRequest("missing_query_parameter", "The query parameter "+p.Name+" is required: "+p.Doc)
				}
			}
			return next(c)
		}
	}
}

func accepted(params []Param) string {
	if len(params) == 0 {
		return "no query parameters"
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return "only " + strings.Join(names, ", ")
}

// queryDoc is the OpenAPI description of params.
func queryDoc(params []Param) []any {
	var out []any
	for _, p := range params {
		out = append(out, map[string]any{"name": p.Name, "in": "query", "required": p.Required, "description": p.Doc, "schema": map[string]any{"type": "string"}})
	}
	return out
}
