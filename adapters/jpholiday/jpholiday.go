// Package jpholiday tells whether a date is a Japanese national holiday
// (国民の祝日, 振替休日, 国民の休日). It implements contract.Holidays on the
// maintained calendar github.com/rickar/cal/v2/jp (Act on National
// Holidays, equinox dates, the 2019–2021 exceptions); the table test in
// this package is the check that the library matches the dates Gantry
// relies on.
package jpholiday

import (
	"time"

	"github.com/rickar/cal/v2/jp"

	"github.com/gantry-etc/gantry/domain"
)

// Calendar is the national holiday calendar; the zero value is ready and
// safe for concurrent use (nothing is cached or mutated).
type Calendar struct{}

// IsHoliday reports whether d is a national holiday, a substitute holiday
// (振替休日) or a citizens' holiday (国民の休日).
func (Calendar) IsHoliday(d domain.Date) bool {
	for _, h := range jp.Holidays {
		actual, observed := h.Calc(d.Year)
		if same(actual, d) || same(observed, d) {
			return true
		}
	}
	return false
}

func same(t time.Time, d domain.Date) bool {
	if t.IsZero() {
		return false
	}
	y, m, day := t.Date()
	return y == d.Year && m == d.Month && day == d.Day
}
