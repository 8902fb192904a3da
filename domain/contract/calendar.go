package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Holidays tells whether a date is a Japanese national holiday (祝日,
// including substitute and citizens' holidays). A holiday library is plugged
// in by the caller; the domain only declares what it needs.
type Holidays interface {
	IsHoliday(domain.Date) bool
}

// HolidayFunc adapts a function to Holidays.
type HolidayFunc func(domain.Date) bool

// IsHoliday calls f.
func (f HolidayFunc) IsHoliday(d domain.Date) bool { return f(d) }

// BusinessCalendar is a customer's business days (営業日): weekdays that are
// always off, whether national holidays are off, and extra company holidays
// (year-end closure, founding day). It is what the non-business-day usage
// report (利用日確認帳票) checks each usage date against. The zero value has
// no day off: every day is a business day.
type BusinessCalendar struct {
	weeklyOff       [7]bool // indexed by time.Weekday
	holidaysOff     bool
	companyHolidays []domain.Date // sorted, unique
}

// NewBusinessCalendar validates: weekdays within Sunday..Saturday, at least
// one weekday not off, company holidays non-zero (duplicates dropped).
func NewBusinessCalendar(weeklyDaysOff []time.Weekday, nationalHolidaysOff bool, companyHolidays []domain.Date) (BusinessCalendar, error) {
	var c BusinessCalendar
	for _, w := range weeklyDaysOff {
		if w < time.Sunday || w > time.Saturday {
			return BusinessCalendar{}, ErrInvalidBusinessDays.Withf("weekly_days_off", "%d is not a weekday (0 Sunday to 6 Saturday).", int(w))
		}
		c.weeklyOff[w] = true
	}
	if !slices.Contains(c.weeklyOff[:], false) {
		return BusinessCalendar{}, ErrInvalidBusinessDays.With("weekly_days_off", "Every weekday is marked off; leave at least one business weekday.")
	}
	c.holidaysOff = nationalHolidaysOff
	for _, d := range companyHolidays {
		if d.IsZero() {
			return BusinessCalendar{}, ErrInvalidBusinessDays.With("company_holidays", "A company holiday has no date.")
		}
		c.companyHolidays = append(c.companyHolidays, d)
	}
	slices.SortFunc(c.companyHolidays, func(a, b domain.Date) int { return a.Start().Compare(b.Start()) })
	c.companyHolidays = slices.Compact(c.companyHolidays)
	return c, nil
}

// StandardBusinessCalendar is Monday to Friday with national holidays off
// and no company holidays.
func StandardBusinessCalendar() BusinessCalendar {
	c, _ := NewBusinessCalendar([]time.Weekday{time.Saturday, time.Sunday}, true, nil)
	return c
}

// IsBusinessDay reports whether d is a business day: its weekday is not off,
// it is not a national holiday when those are off, and it is not a company
// holiday. A nil h knows no national holidays.
func (c BusinessCalendar) IsBusinessDay(d domain.Date, h Holidays) bool {
	if c.weeklyOff[d.Start().Weekday()] {
		return false
	}
	if c.holidaysOff && h != nil && h.IsHoliday(d) {
		return false
	}
	_, found := slices.BinarySearchFunc(c.companyHolidays, d, func(a, b domain.Date) int { return a.Start().Compare(b.Start()) })
	return !found
}

// WeeklyDaysOff returns the weekdays off, Sunday first.
func (c BusinessCalendar) WeeklyDaysOff() []time.Weekday {
	var ws []time.Weekday
	for w, off := range c.weeklyOff {
		if off {
			ws = append(ws, time.Weekday(w))
		}
	}
	return ws
}

// NationalHolidaysOff reports whether national holidays are days off.
func (c BusinessCalendar) NationalHolidaysOff() bool { return c.holidaysOff }

// CompanyHolidays returns a copy of the company holidays, in date order.
func (c BusinessCalendar) CompanyHolidays() []domain.Date {
	return append([]domain.Date(nil), c.companyHolidays...)
}

// Equal reports whether c and o define the same business days.
func (c BusinessCalendar) Equal(o BusinessCalendar) bool {
	return c.weeklyOff == o.weeklyOff && c.holidaysOff == o.holidaysOff && slices.Equal(c.companyHolidays, o.companyHolidays)
}

type calendarJSON struct {
	WeeklyDaysOff       []string      `json:"weekly_days_off"`
	NationalHolidaysOff bool          `json:"national_holidays_off"`
	CompanyHolidays     []domain.Date `json:"company_holidays"`
}

// MarshalJSON encodes weekdays as lower-case English names ("saturday").
func (c BusinessCalendar) MarshalJSON() ([]byte, error) {
	j := calendarJSON{WeeklyDaysOff: []string{}, NationalHolidaysOff: c.holidaysOff, CompanyHolidays: c.CompanyHolidays()}
	for _, w := range c.WeeklyDaysOff() {
		j.WeeklyDaysOff = append(j.WeeklyDaysOff, strings.ToLower(w.String()))
	}
	if j.CompanyHolidays == nil {
		j.CompanyHolidays = []domain.Date{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form written by MarshalJSON; unknown weekday
// names are skipped (stored events are facts and must always decode).
func (c *BusinessCalendar) UnmarshalJSON(b []byte) error {
	var j calendarJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var x BusinessCalendar
	for _, name := range j.WeeklyDaysOff {
		for w := time.Sunday; w <= time.Saturday; w++ {
			if strings.EqualFold(w.String(), name) {
				x.weeklyOff[w] = true
			}
		}
	}
	x.holidaysOff = j.NationalHolidaysOff
	if len(j.CompanyHolidays) > 0 {
		x.companyHolidays = j.CompanyHolidays
	}
	*c = x
	return nil
}
