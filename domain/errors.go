package domain

import "fmt"

// Kind classifies a business-rule error for callers: the HTTP API maps each
// kind to one status (Invalid 422, Conflict 409, NotFound 404, Forbidden 403,
// Gone 410, Locked 423).
type Kind int

const (
	KindInvalid     Kind = iota + 1 // the input breaks a rule; fixing the input helps
	KindConflict                    // the current state forbids it (already done, card in use)
	KindNotFound                    // the thing does not exist (or was erased)
	KindForbidden                   // the actor may not do this
	KindGone                        // it existed but expired (a link past its 60 days)
	KindLocked                      // temporarily refused (too many wrong passcodes)
	KindUnavailable                 // a system Gantry depends on cannot answer now; retry later
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindConflict:
		return "conflict"
	case KindNotFound:
		return "not_found"
	case KindForbidden:
		return "forbidden"
	case KindGone:
		return "gone"
	case KindLocked:
		return "locked"
	case KindUnavailable:
		return "unavailable"
	}
	return "unknown"
}

// Error is a business-rule violation. Code is a stable machine-readable reason
// ("invalid_obu_number"); Detail is a sentence a person can act on; Field names
// the offending input when there is one.
//
// Declare sentinels with the constructors below and add context with With:
// errors.Is(err, ErrX) matches any error carrying the same Kind and Code.
type Error struct {
	Kind   Kind
	Code   string
	Field  string
	Detail string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Detail, e.Field)
	}
	return e.Code + ": " + e.Detail
}

// Is reports whether target is an *Error of the same kind and code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// With returns a copy of e naming the field and a more precise detail.
// An empty detail keeps e's detail.
func (e *Error) With(field, detail string) *Error {
	c := *e
	c.Field = field
	if detail != "" {
		c.Detail = detail
	}
	return &c
}

// Withf is With with a formatted detail.
func (e *Error) Withf(field, format string, args ...any) *Error {
	return e.With(field, fmt.Sprintf(format, args...))
}

func newError(k Kind, code, detail string) *Error {
	return &Error{Kind: k, Code: code, Detail: detail}
}

// Invalid declares an input error (HTTP 422).
func Invalid(code, detail string) *Error { return newError(KindInvalid, code, detail) }

// Conflict declares a state conflict (HTTP 409).
func Conflict(code, detail string) *Error { return newError(KindConflict, code, detail) }

// NotFound declares a missing thing (HTTP 404).
func NotFound(code, detail string) *Error { return newError(KindNotFound, code, detail) }

// Forbidden declares a refused actor (HTTP 403).
func Forbidden(code, detail string) *Error { return newError(KindForbidden, code, detail) }

// Gone declares an expired thing (HTTP 410).
func Gone(code, detail string) *Error { return newError(KindGone, code, detail) }

// Locked declares a temporarily refused action (HTTP 423).
func Locked(code, detail string) *Error { return newError(KindLocked, code, detail) }

// Unavailable is an error of KindUnavailable: an outside system Gantry asks
// (the lease contract system, say) cannot answer now.
func Unavailable(code, detail string) *Error { return newError(KindUnavailable, code, detail) }
