package money_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/money"
)

func TestYearMonth(t *testing.T) {
	tests := []struct {
		name      string
		given     string
		wantStr   string
		wantEDI   string
		wantFirst string
		wantLast  string
		wantErr   error
	}{
		{name: "hyphen_form", given: "2026-11", wantStr: "2026-11", wantEDI: "2026/11", wantFirst: "2026-11-01", wantLast: "2026-11-30"},
		{name: "edi_slash_form", given: "2027/03", wantStr: "2027-03", wantEDI: "2027/03", wantFirst: "2027-03-01", wantLast: "2027-03-31"},
		{name: "leap_february", given: "2028-02", wantStr: "2028-02", wantEDI: "2028/02", wantFirst: "2028-02-01", wantLast: "2028-02-29"},
		{name: "month_13_rejected", given: "2026-13", wantErr: money.ErrInvalidYearMonth},
		{name: "month_00_rejected", given: "2026-00", wantErr: money.ErrInvalidYearMonth},
		{name: "short_form_rejected", given: "2026-1", wantErr: money.ErrInvalidYearMonth},
		{name: "other_separator_rejected", given: "2026.11", wantErr: money.ErrInvalidYearMonth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ym, err := money.ParseYearMonth(tt.given)
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			if ym.String() != tt.wantStr || ym.EDI() != tt.wantEDI {
				t.Errorf("got %s / %s, want %s / %s", ym, ym.EDI(), tt.wantStr, tt.wantEDI)
			}
			if ym.FirstDay().String() != tt.wantFirst || ym.LastDay().String() != tt.wantLast {
				t.Errorf("days %s..%s, want %s..%s", ym.FirstDay(), ym.LastDay(), tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestYearMonthArithmetic(t *testing.T) {
	nov := money.MustYearMonth(2026, time.November)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"add_two_months_crosses_year", nov.AddMonths(2).String(), "2027-01"},
		{"subtract_eleven_months", nov.AddMonths(-11).String(), "2025-12"},
		{"months_since_a_year_ago", nov.MonthsSince(money.MustYearMonth(2025, time.November)), 12},
		{"before", nov.Before(money.MustYearMonth(2026, time.December)), true},
		{"after", nov.After(money.MustYearMonth(2026, time.December)), false},
		{"contains_last_day", nov.Contains(domain.Date{Year: 2026, Month: time.November, Day: 30}), true},
		{"does_not_contain_next_month", nov.Contains(domain.Date{Year: 2026, Month: time.December, Day: 1}), false},
		{"of_date", money.YearMonthOf(domain.Date{Year: 2027, Month: time.March, Day: 15}).String(), "2027-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestYearMonthJSON(t *testing.T) {
	type wrap struct {
		M money.YearMonth `json:"m"`
	}
	in := wrap{money.MustYearMonth(2027, time.March)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"m":"2027-03"}` {
		t.Errorf("json %s", b)
	}
	var out wrap
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip %v %v", out, err)
	}
}

// The National Tax Agency's own corporate number is 7000012050002: base
// 000012050002, digits from the right 2,0,0,0,5,0,2,1,0,0,0,0 with weights
// 1,2,1,2,…: 2+5+2+1×2 = 11; 11 mod 9 = 2; 9−2 = 7.
func TestRegistrationNumber(t *testing.T) {
	tests := []struct {
		name    string
		given   string
		want    string
		wantErr bool
	}{
		{name: "valid_check_digit_7", given: "T7000012050002", want: "T7000012050002"},
		{name: "lower_case_t_normalised", given: "t7000012050002", want: "T7000012050002"},
		// base 123456789012: from the right 2,1,0,9,8,7,6,5,4,3,2,1 ×1,2,… =
		// 2+2+0+18+8+14+6+10+4+6+2+2 = 74; 74 mod 9 = 2; check 7.
		{name: "computed_example_check_7", given: "T7123456789012", want: "T7123456789012"},
		{name: "wrong_check_digit", given: "T8000012050002", wantErr: true},
		{name: "missing_t", given: "7000012050002", wantErr: true},
		{name: "twelve_digits", given: "T700001205000", wantErr: true},
		{name: "letter_in_digits", given: "T70000120500O2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := money.ParseRegistrationNumber(tt.given)
			if tt.wantErr {
				domaintest.ThenErr(t, err, money.ErrInvalidRegistrationNumber)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tt.want {
				t.Errorf("got %s, want %s", r, tt.want)
			}
		})
	}
}

func TestCorporateNumberCheckDigit(t *testing.T) {
	if got := money.CorporateNumberCheckDigit("000012050002"); got != 7 {
		t.Errorf("got %d, want 7", got)
	}
	if got := money.CorporateNumberCheckDigit("12345"); got != -1 {
		t.Errorf("got %d, want -1 for a short base", got)
	}
}

func TestYenString(t *testing.T) {
	tests := []struct {
		given money.Yen
		want  string
	}{{0, "¥0"}, {500, "¥500"}, {1000, "¥1,000"}, {1234567, "¥1,234,567"}, {-1100, "-¥1,100"}}
	for _, tt := range tests {
		if got := tt.given.String(); got != tt.want {
			t.Errorf("%d: got %s, want %s", int64(tt.given), got, tt.want)
		}
	}
}
