package contract_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

var (
	number   = domaintest.Must(contract.ParseNumber("L-2025-0042"))
	vehicle1 = domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34"))
	lease    = domaintest.Must(contract.NewLease(number, "株式会社　山田運輸", domaintest.Date("2025-04-01"), domaintest.Date("2027-03-15"), []contract.VehicleNumber{vehicle1}))
)

func application() contract.Application {
	return contract.Application{
		Contract:     number,
		CustomerName: "株式会社 山田運輸",
		AlphaName:    domaintest.Must(contract.ParseAlphaName("Yamada Unyu Co., Ltd.")),
		Contact:      domaintest.Must(contract.NewContact("東京都港区芝公園1-1-1", "03-1234-5678", "山田 太郎")),
		BankAccount:  domaintest.Must(contract.NewBankAccount("0001", "123", contract.AccountOrdinary, "1234567", "ｶ)ﾔﾏﾀﾞｳﾝﾕ")),
		BusinessDays: contract.StandardBusinessCalendar(),
	}
}

func concluded() contract.Concluded {
	evs, err := new(contract.Contract).Conclude(application(), lease, domaintest.Date("2025-05-01"))
	if err != nil {
		panic(err)
	}
	return evs[0].(contract.Concluded)
}

func TestConclude(t *testing.T) {
	otherLease := domaintest.Must(contract.NewLease(domaintest.Must(contract.ParseNumber("L-9")), "株式会社 山田運輸", domaintest.Date("2025-04-01"), domaintest.Date("2027-03-15"), nil))
	otherName := domaintest.Must(contract.NewLease(number, "株式会社 田中商事", domaintest.Date("2025-04-01"), domaintest.Date("2027-03-15"), nil))
	tests := []struct {
		name    string
		given   []domain.Event
		lease   contract.Lease
		today   string
		wantErr error
	}{
		{name: "application_matching_lease_is_concluded", lease: lease, today: "2025-05-01"},
		{name: "already_concluded_conflicts", given: []domain.Event{concluded()}, lease: lease, today: "2025-05-01", wantErr: contract.ErrContractExists},
		{name: "other_lease_number_mismatches", lease: otherLease, today: "2025-05-01", wantErr: contract.ErrLeaseMismatch},
		{name: "other_customer_name_mismatches", lease: otherName, today: "2025-05-01", wantErr: contract.ErrLeaseMismatch},
		{name: "lease_ended_yesterday_is_refused", lease: lease, today: "2027-03-16", wantErr: contract.ErrLeaseEnded},
		{name: "lease_ending_today_is_accepted", lease: lease, today: "2027-03-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c contract.Contract
			for _, e := range tt.given {
				c.Apply(e)
			}
			evs, err := c.Conclude(application(), tt.lease, domaintest.Date(tt.today))
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			if len(evs) != 1 {
				t.Fatalf("events %v", evs)
			}
			e := evs[0].(contract.Concluded)
			if e.Contact.Subject != "L-2025-0042" || e.BankAccount.Subject != "L-2025-0042" {
				t.Errorf("personal data subject = %q/%q, want the contract number", e.Contact.Subject, e.BankAccount.Subject)
			}
			if e.AlphaName.String() != "YAMADA UNYU CO., LTD." {
				t.Errorf("alpha name %q", e.AlphaName)
			}
			c.Apply(e)
			if !c.Concluded() || c.Version() != 1 || c.CustomerName() != "株式会社 山田運輸" {
				t.Errorf("state after apply: %v %d %q", c.Concluded(), c.Version(), c.CustomerName())
			}
		})
	}
}

func TestChangeBusinessDays(t *testing.T) {
	sixDays := domaintest.Must(contract.NewBusinessCalendar([]time.Weekday{time.Sunday}, false, []domain.Date{domaintest.Date("2026-12-30")}))
	tests := []struct {
		name       string
		given      []domain.Event
		when       contract.BusinessCalendar
		wantEvents int
		wantErr    error
	}{
		{name: "new_calendar_is_recorded", given: []domain.Event{concluded()}, when: sixDays, wantEvents: 1},
		{name: "same_calendar_changes_nothing", given: []domain.Event{concluded()}, when: contract.StandardBusinessCalendar(), wantEvents: 0},
		{name: "unknown_contract_not_found", when: sixDays, wantErr: contract.ErrContractNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c contract.Contract
			for _, e := range tt.given {
				c.Apply(e)
			}
			evs, err := c.ChangeBusinessDays(tt.when, domaintest.Date("2026-01-05"))
			if !errors.Is(err, tt.wantErr) || len(evs) != tt.wantEvents {
				t.Fatalf("events %v err %v; want %d events err %v", evs, err, tt.wantEvents, tt.wantErr)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	// 2026-11-03 (Tue) is Culture Day; 2026-11-07 is a Saturday.
	holidays := contract.HolidayFunc(func(d domain.Date) bool { return d == domaintest.Date("2026-11-03") })
	standard := contract.StandardBusinessCalendar()
	openOnHolidays := domaintest.Must(contract.NewBusinessCalendar([]time.Weekday{time.Sunday}, false, []domain.Date{domaintest.Date("2026-11-05"), domaintest.Date("2026-11-05")}))
	tests := []struct {
		name string
		cal  contract.BusinessCalendar
		day  string
		want bool
	}{
		{"weekday_is_business_day", standard, "2026-11-04", true},
		{"saturday_off", standard, "2026-11-07", false},
		{"national_holiday_off", standard, "2026-11-03", false},
		{"national_holiday_worked_when_not_off", openOnHolidays, "2026-11-03", true},
		{"saturday_worked_when_only_sunday_off", openOnHolidays, "2026-11-07", true},
		{"company_holiday_off", openOnHolidays, "2026-11-05", false},
		{"sunday_off", openOnHolidays, "2026-11-08", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.IsBusinessDay(domaintest.Date(tt.day), holidays); got != tt.want {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.day, got, tt.want)
			}
		})
	}
	if _, err := contract.NewBusinessCalendar([]time.Weekday{0, 1, 2, 3, 4, 5, 6}, true, nil); !errors.Is(err, contract.ErrInvalidBusinessDays) {
		t.Errorf("all days off: err = %v", err)
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"contract_number_with_space_invalid", second(contract.ParseNumber("L 1")), contract.ErrInvalidContractNumber},
		{"empty_vehicle_invalid", second(contract.ParseVehicleNumber("  ")), contract.ErrInvalidVehicleNumber},
		{"alpha_name_with_kana_invalid", second(contract.ParseAlphaName("ヤマダ")), contract.ErrInvalidAlphaName},
		{"phone_with_nine_digits_invalid", second(contract.NewContact("東京都", "03-123-456", "山田")), contract.ErrInvalidContact},
		{"bank_code_three_digits_invalid", second(contract.NewBankAccount("001", "123", contract.AccountOrdinary, "1234567", "ﾔﾏﾀﾞ")), contract.ErrInvalidBankAccount},
		{"account_number_six_digits_invalid", second(contract.NewBankAccount("0001", "123", contract.AccountOrdinary, "123456", "ﾔﾏﾀﾞ")), contract.ErrInvalidBankAccount},
		{"holder_in_kanji_invalid", second(contract.NewBankAccount("0001", "123", contract.AccountCurrent, "1234567", "山田")), contract.ErrInvalidBankAccount},
		{"lease_ending_before_start_invalid", second(contract.NewLease(number, "X", domaintest.Date("2026-01-01"), domaintest.Date("2025-01-01"), nil)), contract.ErrInvalidLease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			domaintest.ThenErr(t, tt.err, tt.wantErr)
		})
	}
	v := domaintest.Must(contract.ParseVehicleNumber("品川　３００　あ　１２－３４"))
	if v.String() != "品川 300 あ 12-34" || !v.Same(domaintest.Must(contract.ParseVehicleNumber("品川300あ12-34"))) {
		t.Errorf("vehicle normalised to %q", v)
	}
}

func second[T any](_ T, err error) error { return err }

func TestEventJSONRoundTrip(t *testing.T) {
	events := []domain.Event{
		concluded(),
		contract.BusinessDaysChanged{Contract: number, BusinessDays: domaintest.Must(contract.NewBusinessCalendar([]time.Weekday{time.Sunday}, true, []domain.Date{domaintest.Date("2026-12-30")})), ChangedOn: domaintest.Date("2026-01-05")},
	}
	domaintest.RoundTripExact(t, events, contract.EventTypes())
}

// A vehicle number already in normal form is taken as it is; any other is
// normalised; both ways give the same String, Key and Same.
func TestVehicleNumberNormalForm(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"品川 300 あ 12-34", "品川 300 あ 12-34"},
		{"品川300あ12-34", "品川300あ12-34"},
		{"  品川　300  あ １２－３４ ", "品川 300 あ 12-34"},
		{"品川 300 あ 12‐34", "品川 300 あ 12-34"},
		{"品川\t300 あ 12-34", "品川 300 あ 12-34"},
		{"A", "A"},
	} {
		v, err := contract.ParseVehicleNumber(c.in)
		if err != nil || v.String() != c.want {
			t.Errorf("%q: %q %v, want %q", c.in, v.String(), err, c.want)
			continue
		}
		w, _ := contract.ParseVehicleNumber(c.want)
		if v != w || v.Key() != strings.ReplaceAll(c.want, " ", "") || !v.Same(w) {
			t.Errorf("%q: %#v and %#v differ (key %q)", c.in, v, w, v.Key())
		}
	}
	for _, bad := range []string{"", "   ", "品川\x01300", "品川 300 あ 12-34 あいうえおかきくけこさしすせそたちつてと"} {
		if _, err := contract.ParseVehicleNumber(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
