package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
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

var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:     http.StatusUnprocessableEntity,
	domain.KindConflict:    http.StatusConflict,
	domain.KindNotFound:    http.StatusNotFound,
	domain.KindForbidden:   http.StatusForbidden,
	domain.KindGone:        http.StatusGone,
	domain.KindLocked:      http.StatusLocked,
	domain.KindUnavailable: http.StatusServiceUnavailable,
}

// ProblemFor is the one table from errors to HTTP problems.
func ProblemFor(err error) Problem {
	var (
		pe *ProblemError
		de *domain.Error
		wv *es.WrongVersionError
		he *echo.HTTPError
		dc *es.DecodeError
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
	case errors.Is(err, es.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Title: "Service unavailable",
			Detail: "The database cannot be reached right now; nothing was written. Retry in a few seconds."}
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
