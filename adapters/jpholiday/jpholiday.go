// Package jpholiday tells whether a date is a Japanese national holiday
// (国民の祝日, 振替休日, 国民の休日) by the rules of the Act on National
// Holidays as in force since 2020, including the equinox formula of the
// National Astronomical Observatory (valid 1980–2099). It implements
// contract.Holidays.
//
// It replaces github.com/holiday-jp/holiday_jp-go, which the module proxy
// does not serve in this build environment; swap it back in here (one file)
// when it is reachable. Dates before 2020 follow today's rules, which differ
// from history (e.g. 天皇誕生日 on 12-23 until 2018).
package jpholiday

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Calendar is the national holiday calendar; the zero value is ready.
type Calendar struct{}

// IsHoliday reports whether d is a national holiday, substitute holiday or
// citizens' holiday.
func (Calendar) IsHoliday(d domain.Date) bool {
	if named(d) {
		return true
	}
	t := d.Start()
	// 振替休日: when a holiday falls on Sunday, the next non-holiday day.
	if t.Weekday() != time.Sunday {
		for p := d.AddDays(-1); named(p); p = p.AddDays(-1) {
			if p.Start().Weekday() == time.Sunday {
				return true
			}
		}
	}
	// 国民の休日: a day between two holidays.
	return t.Weekday() != time.Sunday && named(d.AddDays(-1)) && named(d.AddDays(1))
}

// Name-less check of the holidays fixed by law.
func named(d domain.Date) bool {
	y, m, day := d.Year, d.Month, d.Day
	wd := d.Start().Weekday()
	nthMonday := func(n int) bool { return wd == time.Monday && (day-1)/7 == n-1 }
	switch m {
	case time.January:
		return day == 1 || nthMonday(2)
	case time.February:
		return day == 11 || day == 23
	case time.March:
		return day == equinox(y, 20.8431)
	case time.April:
		return day == 29
	case time.May:
		return day >= 3 && day <= 5
	case time.July:
		switch y {
		case 2020:
			return day == 23 || day == 24
		case 2021:
			return day == 22 || day == 23
		}
		return nthMonday(3)
	case time.August:
		switch y {
		case 2020:
			return day == 10
		case 2021:
			return day == 8
		}
		return day == 11
	case time.September:
		return nthMonday(3) || day == equinox(y, 23.2488)
	case time.October:
		if y == 2020 || y == 2021 {
			return false
		}
		return nthMonday(2)
	case time.November:
		return day == 3 || day == 23
	}
	return false
}

// equinox is the day of the vernal (base 20.8431) or autumnal (23.2488)
// equinox in year y, 1980–2099.
func equinox(y int, base float64) int {
	return int(base+0.242194*float64(y-1980)) - (y-1980)/4
}
