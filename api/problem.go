package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/projections"
)

// Problem is an RFC 9457 problem+json body. Code is Gantry's stable reason
// (the domain error code); Field names the offending input.
type Problem struct {
	Type           string         `json:"type"`
	Title          string         `json:"title"`
	Status         int            `json:"status"`
	Detail         string         `json:"detail,omitempty"`
	Instance       string         `json:"instance,omitempty"`
	Code           string         `json:"code"`
	Field          string         `json:"field,omitempty"`
	CurrentVersion *int64         `json:"current_version,omitempty"`
	RequestID      string         `json:"request_id,omitempty"`
	Errors         []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem is one of several problems in one input (a rejected file's
// lines, say).
type FieldProblem struct {
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ProblemError is an error that already knows its problem.
type ProblemError struct{ Problem Problem }

func (e *ProblemError) Error() string { return e.Problem.Code + ": " + e.Problem.Detail }

// BadRequest is a 400 for input that cannot be read at all (malformed JSON,
// a missing header).
func BadRequest(code, detail string) error {
	return &ProblemError{Problem{Status: http.StatusBadRequest, Code: code, Title: "Bad request", Detail: detail}}
}

// Invalid is a 422 with several field problems.
func Invalid(code, detail string, problems []FieldProblem) error {
	return &ProblemError{Problem{Status: http.StatusUnprocessableEntity, Code: code, Title: "Invalid input", Detail: detail, Errors: problems}}
}

// problemStatus is one row of the table from errors to HTTP statuses. The
// same rows drive ProblemFor (Kinds) and the problem+json responses of every
// operation in /openapi.json (When and AppliesTo), so the document cannot
// promise a status the mapping does not give, or miss one it gives.
type problemStatus struct {
	Status int
	Kinds  []domain.Kind // domain error kinds answered with Status
	Name   string        // components/responses name in the OpenAPI document
	When   string        // what it means for a client
	// AppliesTo says which operations can answer it.
	AppliesTo scope
	// Schema is the problem schema (VersionConflict for 409, else Problem).
	Schema string
	// RetryAfter: the answer carries a Retry-After header.
	RetryAfter bool
}

// scope says which operations can answer a status.
type scope int

const (
	everyOp     scope = iota
	withBody          // a request body (JSON or file) or a command
	withInput         // a body, a command or a path parameter
	withRole          // an authenticated operation
	namingOne         // a path parameter or a command
	rateLimited       // an Op marked RateLimited
)

func (s scope) applies(op Op) bool {
	named := pathParam.MatchString(op.Path)
	switch s {
	case withBody:
		return op.Request != nil || op.Command
	case withInput:
		return op.Request != nil || op.Command || named
	case withRole:
		return len(op.Roles) > 0
	case namingOne:
		return named || op.Command
	case rateLimited:
		return op.RateLimited || op.Limit.Class != ""
	}
	return true
}

// problemStatuses is the table (see problemStatus). 500 is the documented
// default of every operation.
var problemStatuses = []problemStatus{
	{Status: http.StatusBadRequest, Name: "BadRequest", AppliesTo: withBody, Schema: "Problem",
		When: "The request cannot be read: malformed JSON, an unknown field, a bad If-Match or Idempotency-Key header."},
	{Status: http.StatusUnauthorized, Name: "Unauthenticated", AppliesTo: withRole, Schema: "Problem",
		When: "No bearer token, or it is invalid or expired: log in again."},
	{Status: http.StatusForbidden, Name: "Forbidden", Kinds: []domain.Kind{domain.KindForbidden}, AppliesTo: withRole, Schema: "Problem",
		When: "Your role may not do this, or the resource belongs to someone else."},
	{Status: http.StatusNotFound, Name: "NotFound", Kinds: []domain.Kind{domain.KindNotFound}, AppliesTo: namingOne, Schema: "Problem",
		When: "The resource named in the path or body does not exist."},
	{Status: http.StatusConflict, Name: "Conflict", Kinds: []domain.Kind{domain.KindConflict}, AppliesTo: withBody, Schema: "VersionConflict",
		When: "A business rule forbids it in the current state (code says which), or the resource changed since you read it (code version_conflict, with current_version: read it again and retry with that If-Match)."},
	{Status: http.StatusGone, Name: "Gone", Kinds: []domain.Kind{domain.KindGone}, AppliesTo: namingOne, Schema: "Problem",
		When: "The resource existed but has expired or been erased."},
	{Status: http.StatusRequestEntityTooLarge, Name: "PayloadTooLarge", AppliesTo: withBody, Schema: "Problem",
		When: "The body is over this route's size limit (the detail names the limit); nothing was written."},
	{Status: http.StatusUnprocessableEntity, Name: "Invalid", Kinds: []domain.Kind{domain.KindInvalid}, AppliesTo: withInput, Schema: "Problem",
		When: "The input breaks a rule; field and detail say what to change (errors lists every bad line of a file)."},
	{Status: http.StatusLocked, Name: "Locked", Kinds: []domain.Kind{domain.KindLocked}, AppliesTo: withInput, Schema: "Problem",
		When: "The resource is locked (too many wrong passcodes) until an operator unlocks it."},
	{Status: http.StatusTooManyRequests, Name: "TooManyRequests", AppliesTo: rateLimited, Schema: "Problem", RetryAfter: true,
		When: "Too many tries from you; wait for Retry-After."},
	{Status: http.StatusServiceUnavailable, Name: "Unavailable", Kinds: []domain.Kind{domain.KindUnavailable}, AppliesTo: everyOp, Schema: "Problem", RetryAfter: true,
		When: "The database or a system Gantry depends on cannot be reached; nothing was written. Retry after Retry-After seconds."},
}

// kindStatus is the domain-error part of problemStatuses.
var kindStatus = func() map[domain.Kind]int {
	m := map[domain.Kind]int{}
	for _, p := range problemStatuses {
		for _, k := range p.Kinds {
			m[k] = p.Status
		}
	}
	return m
}()

// ProblemFor is the one table from errors to HTTP problems.
func ProblemFor(err error) Problem {
	var (
		pe *ProblemError
		de *domain.Error
		wv *es.WrongVersionError
		he *echo.HTTPError
		dc *es.DecodeError
		tl *es.EventTooLargeError
		tm *TooManyRequests
	)
	switch {
	case errors.As(err, &tm):
		return Problem{Status: http.StatusTooManyRequests, Code: "too_many_requests", Title: "Too Many Requests", Detail: tm.Detail}
	case errors.As(err, &pe):
		p := pe.Problem
		if p.Title == "" {
			p.Title = http.StatusText(p.Status)
		}
		return p
	case errors.As(err, &de):
		st := kindStatus[de.Kind]
		if st == 0 {
			st = http.StatusUnprocessableEntity
		}
		return Problem{Status: st, Code: de.Code, Title: http.StatusText(st), Detail: de.Detail, Field: de.Field}
	case errors.As(err, &wv):
		v := wv.Actual
		return Problem{Status: http.StatusConflict, Code: "version_conflict", Title: "Conflict",
			Detail:         fmt.Sprintf("%s changed since you read it: it is at version %d, you expected %d. Read it again and retry.", wv.Stream, wv.Actual, wv.Expected),
			CurrentVersion: &v}
	case errors.Is(err, projections.ErrBadCursor):
		return Problem{Status: http.StatusBadRequest, Code: "invalid_cursor", Title: "Bad Request", Detail: "The cursor is not one this server gave out; start again without it."}
	case errors.Is(err, es.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Title: "Service unavailable",
			Detail: "The database cannot be reached right now; nothing was written. Retry in a few seconds."}
	case errors.As(err, &tl):
		return Problem{Status: http.StatusRequestEntityTooLarge, Code: "event_too_large", Title: "Content Too Large",
			Detail: fmt.Sprintf("This would record a %s event of %d bytes; events are limited to %d bytes. Nothing was written. Split the request into smaller ones.", tl.Type, tl.Size, tl.Limit)}
	case errors.As(err, &dc):
		return Problem{Status: http.StatusInternalServerError, Code: "undecodable_event", Title: "Internal Server Error",
			Detail: fmt.Sprintf("Stored event %s@%d of type %q cannot be read by this version of Gantry.", dc.Stream, dc.Version, dc.Type)}
	case errors.As(err, &he):
		msg := fmt.Sprint(he.Message)
		return Problem{Status: he.Code, Code: strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_"), Title: http.StatusText(he.Code), Detail: msg}
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Title: "Internal Server Error",
		Detail: "Something went wrong on our side; nothing you can fix. Quote the request id when you report it."}
}

func problemType(code string) string { return "https://gantry.example/problems/" + code }
