package jpholiday_test

import (
	"testing"

	"github.com/gantry-etc/gantry/adapters/jpholiday"
	"github.com/gantry-etc/gantry/domain"
)

func TestIsHoliday(t *testing.T) {
	for _, tc := range []struct {
		date string
		want bool
	}{
		{"2026-01-01", true},  // 元日
		{"2026-01-12", true},  // 成人の日 (2nd Monday)
		{"2026-03-20", true},  // 春分の日
		{"2026-05-06", true},  // 振替休日 (5/3 is a Sunday)
		{"2026-09-22", true},  // 国民の休日 between 敬老の日 9/21 and 秋分の日 9/23
		{"2026-09-23", true},  // 秋分の日
		{"2026-10-12", true},  // スポーツの日
		{"2026-11-23", true},  // 勤労感謝の日
		{"2025-11-24", true},  // 振替休日 (11/23 Sunday)
		{"2024-02-12", true},  // 振替休日 (建国記念の日 2/11 Sunday)
		{"2020-07-24", true},  // スポーツの日 moved for the 2020 Olympics
		{"2020-10-12", false}, // ... so not the 2nd Monday of October that year
		{"2019-05-01", true},  // 即位の日
		{"2027-03-21", true},  // 春分の日 2027
		{"2026-12-31", false}, // year end is a company holiday, not a national one
		{"2026-11-16", false}, // ordinary Monday
		{"2026-11-15", false}, // Sunday, not a holiday
	} {
		d, err := domain.ParseDate(tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := (jpholiday.Calendar{}).IsHoliday(d); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.date, got, tc.want)
		}
	}
}
