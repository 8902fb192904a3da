package card_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/money"
)

const prefix = "988001"

func num(serial int64) card.CardNumber { return domaintest.Must(card.NewCardNumber(prefix, serial)) }

var (
	contractNo = domaintest.Must(contract.ParseNumber("L-2025-0042"))
	alpha      = domaintest.Must(contract.ParseAlphaName("YAMADA UNYU"))
	vehicle    = domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34"))
	otherCar   = domaintest.Must(contract.ParseVehicleNumber("練馬 500 さ 56-78"))
	blue       = domaintest.Must(card.ParseType("BLUE01"))
	red        = domaintest.Must(card.ParseType("RED02"))
	leaseTo    = func(end string) contract.Lease {
		return domaintest.Must(contract.NewLease(contractNo, "株式会社 山田運輸", domaintest.Date("2025-04-01"), domaintest.Date(end), []contract.VehicleNumber{vehicle}))
	}
)

func issueReq(n card.CardNumber) card.IssueRequest {
	return card.IssueRequest{Card: n, Contract: contractNo, AlphaName: alpha, Vehicle: vehicle, Type: blue}
}

// issued is the Issued event of card serial 1: first issued 2025-06-10,
// lease ending 2026-11-20 (expiry 2026-11).
func issued() card.Issued {
	evs, err := new(card.Card).Issue(issueReq(num(1)), leaseTo("2026-11-20"), false, domaintest.Date("2025-06-10"))
	if err != nil {
		panic(err)
	}
	return evs[0].(card.Issued)
}

func load(events ...domain.Event) *card.Card {
	c := new(card.Card)
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

func TestCardNumber(t *testing.T) {
	tests := []struct {
		name    string
		given   string
		want    string
		wantErr bool
	}{
		{name: "luhn_valid_visa_test_number", given: "4111111111111111", want: "4111111111111111"},
		{name: "groups_with_spaces_accepted", given: "4111 1111 1111 1111", want: "4111111111111111"},
		{name: "luhn_wrong_check_digit", given: "4111111111111112", wantErr: true},
		{name: "fifteen_digits", given: "411111111111111", wantErr: true},
		{name: "letters", given: "41111111111111AB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := card.ParseCardNumber(tt.given)
			if tt.wantErr {
				domaintest.ThenErr(t, err, card.ErrInvalidCardNumber)
				return
			}
			if err != nil || n.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", n, err, tt.want)
			}
		})
	}
}

func TestNewCardNumber(t *testing.T) {
	tests := []struct {
		name    string
		prefix  string
		serial  int64
		want    string
		wantErr bool
	}{
		{name: "prefix_serial_and_check_digit", prefix: "411111111", serial: 111111, want: "4111111111111111"},
		// payload 988001000000001: doubled from the right 1→2, 8→7, 9→9 (others 0),
		// undoubled 1+8; sum 27 → check digit 3.
		{name: "serial_zero_padded", prefix: "988001", serial: 1, want: "9880010000000013"},
		{name: "serial_exhausted", prefix: "98800100000000", serial: 10, wantErr: true},
		{name: "negative_serial", prefix: "988001", serial: -1, wantErr: true},
		{name: "prefix_with_letters", prefix: "98A", serial: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := card.NewCardNumber(tt.prefix, tt.serial)
			if tt.wantErr {
				domaintest.ThenErr(t, err, card.ErrInvalidCardNumber)
				return
			}
			if err != nil || n.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", n, err, tt.want)
			}
			if _, err := card.ParseCardNumber(n.String()); err != nil {
				t.Errorf("allocated number does not parse: %v", err)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	tests := []struct {
		name       string
		given      []domain.Event
		req        card.IssueRequest
		lease      contract.Lease
		inUse      bool
		today      string
		wantExpiry string
		wantErr    error
	}{
		{name: "lease_ending_2027_03_15_expires_2027_03", req: issueReq(num(1)), lease: leaseTo("2027-03-15"), today: "2026-11-02", wantExpiry: "2027-03"},
		{name: "second_in_use_card_for_vehicle_conflicts", req: issueReq(num(1)), lease: leaseTo("2027-03-15"), inUse: true, today: "2026-11-02", wantErr: card.ErrCardInUse},
		{name: "vehicle_not_on_lease_invalid", req: func() card.IssueRequest { r := issueReq(num(1)); r.Vehicle = otherCar; return r }(), lease: leaseTo("2027-03-15"), today: "2026-11-02", wantErr: card.ErrVehicleNotLeased},
		{name: "lease_of_other_contract_mismatch", req: func() card.IssueRequest {
			r := issueReq(num(1))
			r.Contract = domaintest.Must(contract.ParseNumber("L-9"))
			return r
		}(), lease: leaseTo("2027-03-15"), today: "2026-11-02", wantErr: contract.ErrLeaseMismatch},
		{name: "ended_lease_refused", req: issueReq(num(1)), lease: leaseTo("2026-10-31"), today: "2026-11-02", wantErr: contract.ErrLeaseEnded},
		{name: "existing_card_number_conflicts", given: []domain.Event{issued()}, req: issueReq(num(1)), lease: leaseTo("2027-03-15"), today: "2026-11-02", wantErr: card.ErrCardExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(tt.given...)
			evs, err := c.Issue(tt.req, tt.lease, tt.inUse, domaintest.Date(tt.today))
			if domaintest.ThenErr(t, err, tt.wantErr) {
				if evs != nil {
					t.Fatalf("events %v with error %v", evs, err)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("events %v", evs)
			}
			e := evs[0].(card.Issued)
			if e.Expiry.String() != tt.wantExpiry || e.Reason != card.ReasonNew || e.FirstIssuedOn != domaintest.Date(tt.today) || e.IssuedOn != domaintest.Date(tt.today) || !e.Previous.IsZero() {
				t.Errorf("issued %+v", e)
			}
			c.Apply(e)
			if c.State() != card.StateInUse || c.State().Label() != "利用中" {
				t.Errorf("state %s", c.State())
			}
		})
	}
}

func TestRenew(t *testing.T) {
	tests := []struct {
		name       string
		given      []domain.Event
		req        card.RenewRequest
		lease      contract.Lease
		wantExpiry string
		wantErr    error
	}{
		{name: "renewal_gets_new_expiry_and_keeps_first_issue", given: []domain.Event{issued()}, req: card.RenewRequest{NewCard: num(2)}, lease: leaseTo("2028-11-20"), wantExpiry: "2028-11"},
		{name: "lease_not_extended_refused", given: []domain.Event{issued()}, req: card.RenewRequest{NewCard: num(2)}, lease: leaseTo("2026-11-30"), wantErr: card.ErrLeaseNotExtended},
		{name: "same_number_refused", given: []domain.Event{issued()}, req: card.RenewRequest{NewCard: num(1)}, lease: leaseTo("2028-11-20"), wantErr: card.ErrSameCardNumber},
		{name: "renewed_card_cannot_be_renewed_again", given: []domain.Event{issued(), card.Renewed{Card: num(1), Successor: num(2), RenewedOn: domaintest.Date("2026-10-01")}}, req: card.RenewRequest{NewCard: num(3)}, lease: leaseTo("2028-11-20"), wantErr: card.ErrCardNotInUse},
		{name: "unknown_card_not_found", req: card.RenewRequest{NewCard: num(2)}, lease: leaseTo("2028-11-20"), wantErr: card.ErrCardNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := load(tt.given...)
			s, err := old.Renew(tt.req, tt.lease, domaintest.Date("2026-10-01"))
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			wantOld := []domain.Event{card.Renewed{Card: num(1), Successor: num(2), RenewedOn: domaintest.Date("2026-10-01")}}
			if s.Old != num(1) || s.New != num(2) || !reflect.DeepEqual(s.OldEvents, wantOld) {
				t.Errorf("succession %+v", s)
			}
			e := s.NewEvents[0].(card.Issued)
			if e.Reason != card.ReasonRenewal || e.Previous != num(1) || e.FirstIssuedOn != domaintest.Date("2025-06-10") || e.IssuedOn != domaintest.Date("2026-10-01") || e.Expiry.String() != tt.wantExpiry || e.Type != blue {
				t.Errorf("new card %+v", e)
			}
			for _, ev := range s.OldEvents {
				old.Apply(ev)
			}
			if old.State() != card.StateRenewed || old.Successor() != num(2) || old.EndedOn() != domaintest.Date("2026-10-01") {
				t.Errorf("old card %s %v %s", old.State(), old.Successor(), old.EndedOn())
			}
		})
	}
}

func TestReissue(t *testing.T) {
	tests := []struct {
		name     string
		reason   string
		newType  card.Type
		today    string
		wantType card.Type
		wantErr  error
	}{
		{name: "lost_card_reissued_same_type", reason: "紛失", today: "2026-10-05", wantType: blue},
		{name: "magnetic_fault_by_code", reason: "magnetic_fault", today: "2026-10-05", wantType: blue},
		{name: "card_type_change_takes_new_type", reason: "カード種類変更", newType: red, today: "2026-10-05", wantType: red},
		{name: "card_type_change_without_new_type_invalid", reason: "カード種類変更", today: "2026-10-05", wantErr: card.ErrCardTypeUnchanged},
		{name: "type_change_under_other_reason_invalid", reason: "破損", newType: red, today: "2026-10-05", wantErr: card.ErrCardTypeChangeReason},
		{name: "after_expiry_month_refused", reason: "紛失", today: "2026-12-01", wantErr: card.ErrCardExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := load(issued())
			reason, err := card.ParseReissueReason(tt.reason)
			if err != nil {
				t.Fatal(err)
			}
			s, err := old.Reissue(card.ReissueRequest{NewCard: num(7), Reason: reason, Type: tt.newType}, domaintest.Date(tt.today))
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			e := s.NewEvents[0].(card.Issued)
			if e.Card != num(7) || e.Reason != reason || e.Previous != num(1) || e.FirstIssuedOn != domaintest.Date("2025-06-10") || e.Expiry.String() != "2026-11" || e.Type != tt.wantType {
				t.Errorf("new card %+v", e)
			}
			for _, ev := range s.OldEvents {
				old.Apply(ev)
			}
			if old.State() != card.StateInvalid || old.State().Label() != "無効" {
				t.Errorf("old card state %s", old.State())
			}
		})
	}
}

func TestParseReissueReasonUnknown(t *testing.T) {
	_, err := card.ParseReissueReason("盗難")
	var de *domain.Error
	if !errors.Is(err, card.ErrUnknownReissueReason) || !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	for _, label := range []string{"紛失", "カード種類変更", "磁気不良", "破損"} {
		if !strings.Contains(de.Detail, label) {
			t.Errorf("detail %q does not list %s", de.Detail, label)
		}
	}
}

func TestCancelAtMonthEnd(t *testing.T) {
	nov := money.MustYearMonth(2026, time.November)
	cancelled := card.Cancelled{Card: num(1), Month: nov, CancelledOn: domaintest.Date("2026-11-30")}
	tests := []struct {
		name  string
		given []domain.Event
		month money.YearMonth
		want  []domain.Event
	}{
		{name: "expiring_2026_11_not_renewed_is_cancelled", given: []domain.Event{issued()}, month: nov, want: []domain.Event{cancelled}},
		{name: "second_run_yields_nothing", given: []domain.Event{issued(), cancelled}, month: nov, want: nil},
		{name: "earlier_month_yields_nothing", given: []domain.Event{issued()}, month: nov.AddMonths(-1), want: nil},
		{name: "renewed_card_not_cancelled", given: []domain.Event{issued(), card.Renewed{Card: num(1), Successor: num(2), RenewedOn: domaintest.Date("2026-10-01")}}, month: nov, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(tt.given...)
			got := c.CancelAtMonthEnd(tt.month)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, e := range got {
				c.Apply(e)
			}
			if len(got) > 0 && (c.State() != card.StateCancelled || c.EndedOn() != domaintest.Date("2026-11-30")) {
				t.Errorf("state %s ended %s", c.State(), c.EndedOn())
			}
		})
	}
}

func TestRenewalNotice(t *testing.T) {
	// expiry 2026-11 → due from 2026-09-01.
	recorded := card.RenewalNoticeRecorded{Card: num(1), Expiry: money.MustYearMonth(2026, time.November), RecordedOn: domaintest.Date("2026-09-01")}
	tests := []struct {
		name       string
		given      []domain.Event
		today      string
		wantDue    bool
		wantEvents int
		wantErr    error
	}{
		{name: "not_due_on_2026_08_31", given: []domain.Event{issued()}, today: "2026-08-31", wantDue: false, wantErr: card.ErrRenewalNoticeNotDue},
		{name: "due_from_2026_09_01", given: []domain.Event{issued()}, today: "2026-09-01", wantDue: true, wantEvents: 1},
		{name: "recorded_once_only", given: []domain.Event{issued(), recorded}, today: "2026-09-02", wantDue: false, wantEvents: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(tt.given...)
			if got := c.RenewalNoticeDue(domaintest.Date(tt.today)); got != tt.wantDue {
				t.Errorf("due = %v, want %v", got, tt.wantDue)
			}
			evs, err := c.RecordRenewalNotice(domaintest.Date(tt.today))
			if !errors.Is(err, tt.wantErr) || len(evs) != tt.wantEvents {
				t.Errorf("events %v err %v", evs, err)
			}
		})
	}
	c := load(card.Issued{Card: num(1), Contract: contractNo, AlphaName: alpha, Vehicle: vehicle, Type: blue, Expiry: money.MustYearMonth(2027, time.March), FirstIssuedOn: domaintest.Date("2025-06-10"), IssuedOn: domaintest.Date("2025-06-10"), Reason: card.ReasonNew})
	if c.RenewalNoticeFrom() != domaintest.Date("2027-01-01") {
		t.Errorf("expiry 2027-03: notice from %s, want 2027-01-01", c.RenewalNoticeFrom())
	}
}

func TestPrinterRecord(t *testing.T) {
	got := issued().PrinterRecord().Fields()
	want := []string{"YAMADA UNYU", "品川 300 あ 12-34", "BLUE01", num(1).String(), "2026/11"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	reissued := issued()
	reissued.Card, reissued.Previous, reissued.Reason = num(2), num(1), card.ReasonDamage
	events := []domain.Event{
		issued(),
		reissued,
		card.Renewed{Card: num(1), Successor: num(2), RenewedOn: domaintest.Date("2026-10-01")},
		card.Invalidated{Card: num(1), Successor: num(2), Reason: card.ReasonLost, InvalidatedOn: domaintest.Date("2026-10-01")},
		card.Cancelled{Card: num(1), Month: money.MustYearMonth(2026, time.November), CancelledOn: domaintest.Date("2026-11-30")},
		card.RenewalNoticeRecorded{Card: num(1), Expiry: money.MustYearMonth(2026, time.November), RecordedOn: domaintest.Date("2026-09-01")},
		card.VehicleClaimed{Vehicle: issued().Vehicle, Card: num(2), Previous: num(1)},
		card.VehicleReleased{Vehicle: issued().Vehicle, Card: num(2)},
	}
	domaintest.RoundTripExact(t, events, card.EventTypes())
}
