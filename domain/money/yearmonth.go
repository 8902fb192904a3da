package money

import (
	"fmt"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// YearMonth is a calendar month in Japan time, such as a card's expiry month
// or an invoice's billing period. The zero value means "no month".
// YearMonth values are comparable with ==.
type YearMonth struct {
	year  int
	month time.Month
}

// NewYearMonth returns the month; the year must be 1–9999 and the month 1–12.
func NewYearMonth(year int, month time.Month) (YearMonth, error) {
	if year < 1 || year > 9999 || month < time.January || month > time.December {
		return YearMonth{}, ErrInvalidYearMonth.Withf("year_month",
			"%04d-%02d is not a month; give a year from 0001 to 9999 and a month from 01 to 12.", year, int(month))
	}
	return YearMonth{year, month}, nil
}

// MustYearMonth is NewYearMonth for constants in tests and tables; it panics
// on an invalid month.
func MustYearMonth(year int, month time.Month) YearMonth {
	ym, err := NewYearMonth(year, month)
	if err != nil {
		panic(err)
	}
	return ym
}

// ParseYearMonth parses "2026-11" (the stored form) or "2026/11" (the EDI
// form). Exactly four digits, a separator and two digits.
func ParseYearMonth(s string) (YearMonth, error) {
	if len(s) != 7 || (s[4] != '-' && s[4] != '/') {
		return YearMonth{}, ErrInvalidYearMonth.Withf("year_month", "%q is not a month; write it as YYYY-MM, for example 2026-11.", s)
	}
	y, ok1 := digits(s[:4])
	m, ok2 := digits(s[5:])
	if !ok1 || !ok2 {
		return YearMonth{}, ErrInvalidYearMonth.Withf("year_month", "%q is not a month; write it as YYYY-MM, for example 2026-11.", s)
	}
	return NewYearMonth(y, time.Month(m))
}

func digits(s string) (int, bool) {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// YearMonthOf returns the month that contains d.
func YearMonthOf(d domain.Date) YearMonth { return YearMonth{d.Year, d.Month} }

// Year is the calendar year.
func (ym YearMonth) Year() int { return ym.year }

// Month is the calendar month.
func (ym YearMonth) Month() time.Month { return ym.month }

// IsZero reports whether ym is the zero value (no month).
func (ym YearMonth) IsZero() bool { return ym == YearMonth{} }

// String formats "2026-11".
func (ym YearMonth) String() string { return fmt.Sprintf("%04d-%02d", ym.year, int(ym.month)) }

// EDI formats "2026/11", the form the card printer and road operators use.
func (ym YearMonth) EDI() string { return fmt.Sprintf("%04d/%02d", ym.year, int(ym.month)) }

// AddMonths returns the month n months later (earlier for negative n).
func (ym YearMonth) AddMonths(n int) YearMonth {
	i := ym.index() + n
	return YearMonth{year: i / 12, month: time.Month(i%12 + 1)}
}

func (ym YearMonth) index() int { return ym.year*12 + int(ym.month) - 1 }

// MonthsSince returns how many months ym is after o (negative if before):
// 2026-06 MonthsSince 2025-06 is 12.
func (ym YearMonth) MonthsSince(o YearMonth) int { return ym.index() - o.index() }

// Before reports whether ym is earlier than o.
func (ym YearMonth) Before(o YearMonth) bool { return ym.index() < o.index() }

// After reports whether ym is later than o.
func (ym YearMonth) After(o YearMonth) bool { return ym.index() > o.index() }

// FirstDay is the 1st of the month.
func (ym YearMonth) FirstDay() domain.Date {
	return domain.Date{Year: ym.year, Month: ym.month, Day: 1}
}

// LastDay is the last day of the month (28–31).
func (ym YearMonth) LastDay() domain.Date { return ym.AddMonths(1).FirstDay().AddDays(-1) }

// Contains reports whether d falls in the month.
func (ym YearMonth) Contains(d domain.Date) bool { return d.Year == ym.year && d.Month == ym.month }

// MarshalText encodes "2026-11" ("" for the zero value).
func (ym YearMonth) MarshalText() ([]byte, error) {
	if ym.IsZero() {
		return []byte{}, nil
	}
	return []byte(ym.String()), nil
}

// UnmarshalText decodes "2026-11" or "2026/11" ("" is the zero value).
func (ym *YearMonth) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*ym = YearMonth{}
		return nil
	}
	v, err := ParseYearMonth(string(b))
	if err != nil {
		return err
	}
	*ym = v
	return nil
}
