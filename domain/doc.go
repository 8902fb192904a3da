// Package domain holds what every aggregate package shares: the Event
// interface, business-rule errors, the Personal marker for sealed personal
// data, and Japan business time. Aggregates live in sub-packages (one per
// aggregate) and import only the standard library and this package.
//
// An aggregate decides, then evolves: a command method validates against the
// current state and returns events (or a *Error); one Apply switch is the only
// code that changes state, and it never fails. Time is an input: commands take
// `now` from the caller.
package domain
