package api

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

var pathParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// OpenAPIPath turns an echo path (/v1/x/:id) into OpenAPI form (/v1/x/{id}).
func OpenAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// OpenAPI returns the OpenAPI 3.1 document of the registered routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, op := range s.ops {
		p := OpenAPIPath(op.Path)
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		o := map[string]any{"operationId": op.ID, "summary": op.Summary, "tags": []string{op.Tag}}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		params = append(params, queryDoc(op.Query)...)
		if op.Command {
			keyDoc := "Retry-safe key, scoped to this route and caller: a retry answers the first outcome (same IDs, status, ETag) and appends nothing; another request with the same key gets 422. 1-200 printable ASCII characters."
			if len(op.Roles) == 0 {
				keyDoc += " On this anonymous route it must be unguessable: a random version-4 UUID or at least 32 random base64url characters (400 otherwise)."
			}
			params = append(params,
				map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string"}, "description": keyDoc},
				map[string]any{"name": "If-Match", "in": "header", "schema": map[string]any{"type": "string"}, "description": "The ETag (stream version) you read; a stale one gives 409."})
		}
		if op.Method == http.MethodGet {
			params = append(params,
				map[string]any{"name": HeaderAfter, "in": "header", "schema": map[string]any{"type": "string"}, "description": "The same as ?after=."})
		}
		if params != nil {
			o["parameters"] = params
		}
		o["security"] = []any{} // public
		if len(op.Roles) > 0 {
			o["security"] = []any{map[string]any{"bearer": []string{}}}
			roles := make([]string, len(op.Roles))
			for i, r := range op.Roles {
				roles[i] = string(r)
			}
			o["x-roles"] = roles
		}
		if op.Request != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(op.Request), 0)}}}
		}
		st := op.Status
		if st == 0 {
			st = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(st)}
		if op.Paged {
			ok["headers"] = map[string]any{"Link": map[string]any{"description": `The next page: <URL>; rel="next" (absent on the last page).`, "schema": map[string]any{"type": "string"}}}
		}
		ct := op.Produces
		if ct == "" {
			ct = "application/json"
		}
		if op.Response != nil || op.Produces != "" {
			var sch any = map[string]any{"type": "string", "format": "binary"}
			if op.Response != nil {
				sch = schemaOf(reflect.TypeOf(op.Response), 0)
			}
			ok["content"] = map[string]any{ct: map[string]any{"schema": sch}}
		}
		responses := map[string]any{
			itoa(st):  ok,
			"default": map[string]any{"$ref": "#/components/responses/Internal"},
		}
		for _, p := range problemStatuses {
			if p.AppliesTo.applies(op) {
				responses[itoa(p.Status)] = map[string]any{"$ref": "#/components/responses/" + p.Name}
			}
		}
		o["responses"] = responses
		if op.Limit.Class != "" {
			o["x-rate-limit"] = op.Limit.Class
		}
		item[strings.ToLower(op.Method)] = o
	}
	problemOf := func(schema, description string, retryAfter bool) map[string]any {
		r := map[string]any{"description": description,
			"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}}
		if retryAfter {
			r["headers"] = map[string]any{"Retry-After": map[string]any{"description": "Seconds to wait before retrying.", "schema": map[string]any{"type": "integer"}}}
		}
		return r
	}
	responses := map[string]any{"Internal": problemOf("Problem", "An RFC 9457 problem: something went wrong on Gantry's side; quote request_id when you report it.", false)}
	for _, p := range problemStatuses {
		if slices.ContainsFunc(s.ops, p.AppliesTo.applies) {
			responses[p.Name] = problemOf(p.Schema, p.When, p.RetryAfter)
		}
	}
	problem := schemaOf(reflect.TypeOf(Problem{}), 0)
	conflict := map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/Problem"}},
		"description": "A conflict; current_version is set when code is version_conflict (the stream's version now, for the next If-Match)."}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Gantry", "version": "1.0.0", "description": "ETC on-board-unit setup, certificates, corporate ETC cards and billing."},
		"servers": []any{map[string]any{"url": "/", "description": "This Gantry server (GANTRY_PUBLIC_URL when set behind a proxy)."}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         map[string]any{"Problem": problem, "VersionConflict": conflict},
			"responses":       responses,
		},
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func (s *Server) openapi(c echo.Context) error { return c.JSON(http.StatusOK, s.OpenAPI()) }

var timeType = reflect.TypeOf(time.Time{})

// schemaOf is a JSON Schema (2020-12, as OpenAPI 3.1 uses) of a Go type's
// JSON encoding.
func schemaOf(t reflect.Type, depth int) map[string]any {
	if depth > 8 {
		return map[string]any{}
	}
	if t.Kind() == reflect.Pointer {
		return schemaOf(t.Elem(), depth)
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t.Implements(reflect.TypeOf((*interface{ MarshalText() ([]byte, error) })(nil)).Elem()) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), depth+1)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), depth+1)}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type, depth+1)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
		out := map[string]any{"type": "object", "properties": props}
		if required != nil {
			out["required"] = required
		}
		return out
	}
	return map[string]any{}
}
