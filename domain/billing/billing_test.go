package billing_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/money"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, domain.Tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func num(serial int64) card.CardNumber { return domaintest.Must(card.NewCardNumber("988001", serial)) }
func ym(s string) money.YearMonth      { return domaintest.Must(money.ParseYearMonth(s)) }

var (
	contractNo = domaintest.Must(contract.ParseNumber("L-2025-0042"))
	customer   = billing.Customer{Contract: contractNo, Name: "株式会社 山田運輸"}
	vehicle    = domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34"))
	otherCar   = domaintest.Must(contract.ParseVehicleNumber("練馬 500 さ 56-78"))
	reg        = domaintest.Must(money.ParseRegistrationNumber("T7000012050002"))
	settings   = domaintest.Must(billing.NewSettings("K リース株式会社", reg, billing.DefaultIssueFee, billing.DefaultAnnualFee))
)

// newCard is a card first issued on first and issued on issued for reason.
func cardRec(serial int64, reason card.IssueReason, first, issued, ended string, previous int64) billing.CardRecord {
	c := billing.CardRecord{Card: num(serial), Vehicle: vehicle, Reason: reason, FirstIssuedOn: domaintest.Date(first), IssuedOn: domaintest.Date(issued)}
	if ended != "" {
		c.EndedOn = domaintest.Date(ended)
	}
	if previous != 0 {
		c.Previous = num(previous)
	}
	return c
}

func usage(id string, serial int64, v contract.VehicleNumber, entry, exit string, toll int64) billing.UsageRecord {
	return domaintest.Must(billing.NewUsageRecord(billing.UsageFields{
		RecordID: id, Operator: "NEXCO-E", Card: num(serial).String(), Vehicle: v.String(),
		EntryIC: "東京IC", EntryAt: at(entry), ExitIC: "横浜町田IC", ExitAt: at(exit), Toll: toll,
	}))
}

func amounts(s billing.Statement) map[billing.LineKind]money.Yen {
	m := map[billing.LineKind]money.Yen{}
	for _, l := range s.Lines {
		m[l.Kind] += l.Amount
	}
	return m
}

func TestComputeFees(t *testing.T) {
	// card 1 first issued 2025-06-10 (annual fee month: June).
	first := cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "", 0)
	tests := []struct {
		name          string
		month         string
		cards         []billing.CardRecord
		wantIssueFee  money.Yen
		wantAnnualFee money.Yen
		wantAnnualOn  card.CardNumber
	}{
		{name: "new_card_bills_issue_and_annual_fee_in_first_month", month: "2025-06", cards: []billing.CardRecord{first}, wantIssueFee: 500, wantAnnualFee: 1000, wantAnnualOn: num(1)},
		{name: "annual_fee_billed_2026_06", month: "2026-06", cards: []billing.CardRecord{first}, wantAnnualFee: 1000, wantAnnualOn: num(1)},
		{name: "annual_fee_not_billed_2026_07", month: "2026-07", cards: []billing.CardRecord{first}},
		{name: "annual_fee_billed_2027_06", month: "2027-06", cards: []billing.CardRecord{first}, wantAnnualFee: 1000, wantAnnualOn: num(1)},
		{
			name:  "reissue_for_magnetic_fault_in_november_bills_no_fee",
			month: "2026-11",
			cards: []billing.CardRecord{
				cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-11-05", 0),
				cardRec(2, card.ReasonMagneticFault, "2025-06-10", "2026-11-05", "", 1),
			},
		},
		{
			name:  "reissue_for_damage_bills_no_fee",
			month: "2026-11",
			cards: []billing.CardRecord{cardRec(2, card.ReasonDamage, "2025-06-10", "2026-11-05", "", 1)},
		},
		{
			name:         "reissue_for_lost_in_november_bills_500",
			month:        "2026-11",
			cards:        []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-11-05", 0), cardRec(2, card.ReasonLost, "2025-06-10", "2026-11-05", "", 1)},
			wantIssueFee: 500,
		},
		{
			name:         "renewal_bills_issue_fee",
			month:        "2026-11",
			cards:        []billing.CardRecord{cardRec(2, card.ReasonRenewal, "2025-06-10", "2026-11-20", "", 1)},
			wantIssueFee: 500,
		},
		{
			name:  "card_and_successor_in_anniversary_month_bill_one_annual_fee_on_successor",
			month: "2026-06",
			cards: []billing.CardRecord{
				cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-06-15", 0),
				cardRec(2, card.ReasonLost, "2025-06-10", "2026-06-15", "2026-06-20", 1),
				cardRec(3, card.ReasonCardTypeChange, "2025-06-10", "2026-06-20", "", 2),
			},
			wantIssueFee: 1000, wantAnnualFee: 1000, wantAnnualOn: num(3),
		},
		{
			name:          "renewal_carries_first_issue_month_so_cycle_continues",
			month:         "2027-06",
			cards:         []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-11-20", 0), cardRec(2, card.ReasonRenewal, "2025-06-10", "2026-11-20", "", 1)},
			wantAnnualFee: 1000, wantAnnualOn: num(2),
		},
		{
			name:  "card_cancelled_before_anniversary_month_not_billed",
			month: "2026-06",
			cards: []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-05-31", 0)},
		},
		{
			name:          "card_in_use_on_first_day_of_anniversary_month_billed",
			month:         "2026-06",
			cards:         []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "2026-06-30", 0)},
			wantAnnualFee: 1000, wantAnnualOn: num(1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := billing.Compute(settings, customer, ym(tt.month), tt.cards, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := amounts(st)
			if got[billing.KindIssueFee] != tt.wantIssueFee || got[billing.KindAnnualFee] != tt.wantAnnualFee {
				t.Errorf("issue fees %s annual fees %s, want %s and %s", got[billing.KindIssueFee], got[billing.KindAnnualFee], tt.wantIssueFee, tt.wantAnnualFee)
			}
			for _, l := range st.Lines {
				if l.Kind == billing.KindAnnualFee && l.Card != tt.wantAnnualOn {
					t.Errorf("annual fee on %s, want %s", l.Card, tt.wantAnnualOn)
				}
			}
			fees := tt.wantIssueFee + tt.wantAnnualFee
			if st.Summary.Total != fees+billing.TaxOn(fees, billing.StandardRate) {
				t.Errorf("total %s for fees %s", st.Summary.Total, fees)
			}
		})
	}
}

func TestComputeTaxRoundedOncePerInvoice(t *testing.T) {
	s := domaintest.Must(billing.NewSettings("K リース株式会社", reg, 333, 0))
	cards := []billing.CardRecord{
		cardRec(1, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0),
		cardRec(2, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0),
		cardRec(3, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0),
	}
	st, err := billing.Compute(s, customer, ym("2026-11"), cards, []billing.UsageRecord{usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)})
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Summary{
		Tolls: 1250, IssueFees: 999, AnnualFees: 0,
		Taxes:    []billing.RateTotal{{Rate: 10, Base: 999, Tax: 99}}, // ¥99.9 rounded down once
		Rounding: billing.RoundDown,
		Total:    1250 + 999 + 99,
	}
	if !reflect.DeepEqual(st.Summary, want) {
		t.Errorf("summary %+v, want %+v", st.Summary, want)
	}
	// ¥1,005 at 10% is ¥100.5 → ¥100; per line (¥335 × 3 → ¥33 × 3) would be ¥99.
	s2 := domaintest.Must(billing.NewSettings("K", reg, 335, 0))
	st2 := domaintest.Must(billing.Compute(s2, customer, ym("2026-11"), cards, nil))
	if st2.Summary.Taxes[0].Tax != 100 {
		t.Errorf("tax on ¥1,005 = %s, want ¥100 (once per invoice, rounded down)", st2.Summary.Taxes[0].Tax)
	}
}

func TestComputeTolls(t *testing.T) {
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "", 0)}
	tests := []struct {
		name      string
		usage     []billing.UsageRecord
		wantTolls money.Yen
		wantLines int
		wantErr   error
	}{
		{name: "usage_in_month_billed_as_pass_through", usage: []billing.UsageRecord{usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)}, wantTolls: 1250, wantLines: 1},
		{name: "entered_last_day_exited_next_month_billed_in_entry_month", usage: []billing.UsageRecord{usage("R2", 1, vehicle, "2026-11-30 23:50:00", "2026-12-01 00:20:00", 980)}, wantTolls: 980, wantLines: 1},
		{name: "entered_previous_month_skipped", usage: []billing.UsageRecord{usage("R3", 1, vehicle, "2026-10-31 23:50:00", "2026-11-01 00:20:00", 980)}, wantTolls: 0},
		{name: "identical_duplicate_counted_once", usage: []billing.UsageRecord{usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250), usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)}, wantTolls: 1250, wantLines: 1},
		{name: "conflicting_duplicate_refused", usage: []billing.UsageRecord{usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250), usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1350)}, wantErr: billing.ErrDuplicateUsage},
		{name: "unknown_card_refused", usage: []billing.UsageRecord{usage("R9", 9, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)}, wantErr: billing.ErrUnknownUsageCard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := billing.Compute(settings, customer, ym("2026-11"), cards, tt.usage)
			if domaintest.ThenErr(t, err, tt.wantErr) {
				return
			}
			if st.Summary.Tolls != tt.wantTolls || len(st.Lines) != tt.wantLines {
				t.Errorf("tolls %s in %d lines, want %s in %d", st.Summary.Tolls, len(st.Lines), tt.wantTolls, tt.wantLines)
			}
			if len(st.Summary.Taxes) != 0 || st.Summary.Total != tt.wantTolls {
				t.Errorf("tolls must not be taxed: %+v", st.Summary)
			}
			for _, d := range st.Details() {
				for _, u := range d.Usages {
					if u.TaxRate != billing.NotTaxed || u.EntryIC == "" || u.ExitIC == "" || u.ExitAt.IsZero() || u.UsageDate.IsZero() {
						t.Errorf("detail line %+v", u)
					}
				}
			}
		})
	}
}

func TestNewUsageRecord(t *testing.T) {
	ok := billing.UsageFields{RecordID: "R1", Operator: "NEXCO-E", Card: num(1).String(), Vehicle: "品川 300 あ 12-34",
		EntryIC: "東京IC", EntryAt: at("2026-11-04 08:00:00"), ExitIC: "横浜町田IC", ExitAt: at("2026-11-04 08:40:00"), Toll: 1250}
	tests := []struct {
		name    string
		change  func(*billing.UsageFields)
		wantErr error
	}{
		{name: "valid_record", change: func(*billing.UsageFields) {}},
		{name: "negative_toll", change: func(f *billing.UsageFields) { f.Toll = -1 }, wantErr: billing.ErrInvalidUsage},
		{name: "exit_before_entry", change: func(f *billing.UsageFields) { f.ExitAt = at("2026-11-04 07:59:00") }, wantErr: billing.ErrInvalidUsage},
		{name: "card_check_digit_wrong", change: func(f *billing.UsageFields) { f.Card = "9880010000000012" }, wantErr: card.ErrInvalidCardNumber},
		{name: "missing_record_id", change: func(f *billing.UsageFields) { f.RecordID = " " }, wantErr: billing.ErrInvalidUsage},
		{name: "zero_toll_allowed", change: func(f *billing.UsageFields) { f.Toll = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.change(&f)
			_, err := billing.NewUsageRecord(f)
			domaintest.ThenErr(t, err, tt.wantErr)
		})
	}
}

func TestReconcile(t *testing.T) {
	nov := ym("2026-11")
	number := billing.InvoiceNumberFor(contractNo, nov)
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0)}
	r1 := usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)
	r2 := usage("R2", 1, vehicle, "2026-11-20 18:00:00", "2026-11-20 18:30:00", 700)
	issued := domaintest.Must(billing.Compute(settings, customer, nov, cards, []billing.UsageRecord{r1}))
	given := billing.InvoiceIssued{Invoice: number, IssuedOn: domaintest.Date("2026-11-30"), Statement: issued}

	tests := []struct {
		name        string
		usage       []billing.UsageRecord
		wantKind    billing.AdjustmentKind
		wantTotal   money.Yen
		wantAdded   int
		wantRemoved int
	}{
		{name: "same_recomputation_yields_nothing", usage: []billing.UsageRecord{r1}},
		{name: "late_usage_record_issues_debit", usage: []billing.UsageRecord{r1, r2}, wantKind: billing.AdjustmentDebit, wantTotal: 700, wantAdded: 1},
		{name: "withdrawn_usage_record_issues_credit", usage: nil, wantKind: billing.AdjustmentCredit, wantTotal: -1250, wantRemoved: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inv billing.Invoice
			inv.Apply(given)
			recomputed := domaintest.Must(billing.Compute(settings, customer, nov, cards, tt.usage))
			evs, err := inv.Reconcile(recomputed, domaintest.Date("2026-12-10"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantKind == "" {
				if len(evs) != 0 {
					t.Fatalf("events %v, want none", evs)
				}
				return
			}
			a := evs[0].(billing.AdjustmentIssued)
			if a.Invoice != number || a.Adjustment.String() != "INV-202611-L-2025-0042-A1" || a.Kind != tt.wantKind ||
				a.Summary.Total != tt.wantTotal || len(a.Added) != tt.wantAdded || len(a.Removed) != tt.wantRemoved {
				t.Errorf("adjustment %+v", a)
			}
			inv.Apply(a)
			if inv.Effective().Summary.Total != recomputed.Summary.Total {
				t.Errorf("effective total %s, want %s", inv.Effective().Summary.Total, recomputed.Summary.Total)
			}
			again, err := inv.Reconcile(recomputed, domaintest.Date("2026-12-11"))
			if err != nil || len(again) != 0 {
				t.Errorf("second reconcile: %v %v, want nothing", again, err)
			}
		})
	}
}

func TestReconcileTaxDifferenceKeepsOnceRounding(t *testing.T) {
	// Issued: 1 card at ¥335 → tax ¥33. Recomputed: 3 cards → base ¥1,005, tax ¥100.
	s := domaintest.Must(billing.NewSettings("K", reg, 335, 0))
	nov := ym("2026-11")
	one := []billing.CardRecord{cardRec(1, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0)}
	three := append(one, cardRec(2, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0), cardRec(3, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0))
	var inv billing.Invoice
	inv.Apply(billing.InvoiceIssued{Invoice: billing.InvoiceNumberFor(contractNo, nov), IssuedOn: domaintest.Date("2026-11-30"), Statement: domaintest.Must(billing.Compute(s, customer, nov, one, nil))})
	evs := domaintest.Must(inv.Reconcile(domaintest.Must(billing.Compute(s, customer, nov, three, nil)), domaintest.Date("2026-12-10")))
	a := evs[0].(billing.AdjustmentIssued)
	if want := []billing.RateTotal{{Rate: 10, Base: 670, Tax: 67}}; !reflect.DeepEqual(a.Summary.Taxes, want) || a.Summary.Total != 737 {
		t.Errorf("difference %+v, want taxes %+v total ¥737", a.Summary, want)
	}
}

func TestInvoiceIssue(t *testing.T) {
	nov := ym("2026-11")
	st := domaintest.Must(billing.Compute(settings, customer, nov, nil, nil))
	number := billing.InvoiceNumberFor(contractNo, nov)
	tests := []struct {
		name    string
		given   []domain.Event
		when    func(*billing.Invoice) ([]domain.Event, error)
		wantErr error
	}{
		{name: "issue_new_invoice", when: func(i *billing.Invoice) ([]domain.Event, error) {
			return i.Issue(number, st, domaintest.Date("2026-11-30"))
		}},
		{name: "issue_twice_conflicts", given: []domain.Event{billing.InvoiceIssued{Invoice: number, IssuedOn: domaintest.Date("2026-11-30"), Statement: st}}, when: func(i *billing.Invoice) ([]domain.Event, error) {
			return i.Issue(number, st, domaintest.Date("2026-11-30"))
		}, wantErr: billing.ErrInvoiceIssued},
		{name: "reconcile_before_issue_not_found", when: func(i *billing.Invoice) ([]domain.Event, error) {
			return i.Reconcile(st, domaintest.Date("2026-11-30"))
		}, wantErr: billing.ErrInvoiceNotIssued},
		{name: "reconcile_other_month_mismatch", given: []domain.Event{billing.InvoiceIssued{Invoice: number, IssuedOn: domaintest.Date("2026-11-30"), Statement: st}}, when: func(i *billing.Invoice) ([]domain.Event, error) {
			return i.Reconcile(domaintest.Must(billing.Compute(settings, customer, ym("2026-12"), nil, nil)), domaintest.Date("2026-12-31"))
		}, wantErr: billing.ErrStatementMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inv billing.Invoice
			for _, e := range tt.given {
				inv.Apply(e)
			}
			_, err := tt.when(&inv)
			domaintest.ThenErr(t, err, tt.wantErr)
		})
	}
}

func TestNonBusinessDayUsage(t *testing.T) {
	// 2026-11-03 (Tue) Culture Day; 2026-11-07 Saturday; 2026-11-04 Wednesday.
	holidays := contract.HolidayFunc(func(d domain.Date) bool { return d == domaintest.Date("2026-11-03") })
	us := []billing.UsageRecord{
		usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250),
		usage("R2", 1, vehicle, "2026-11-07 10:00:00", "2026-11-07 10:30:00", 700),
		usage("R3", 1, vehicle, "2026-11-03 09:00:00", "2026-11-03 09:30:00", 700),
		usage("R4", 1, vehicle, "2026-11-06 23:50:00", "2026-11-07 00:30:00", 900), // entered Friday
	}
	got := billing.NonBusinessDayUsage(ym("2026-11"), us, contract.StandardBusinessCalendar(), holidays)
	var ids []string
	for _, u := range got {
		ids = append(ids, u.RecordID())
	}
	if want := []string{"R3", "R2"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
}

func TestOtherVehicleUsage(t *testing.T) {
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-06-10", "2025-06-10", "", 0)}
	us := []billing.UsageRecord{
		usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250),
		usage("R2", 1, otherCar, "2026-11-05 08:00:00", "2026-11-05 08:40:00", 1250),
		usage("R3", 1, domaintest.Must(contract.ParseVehicleNumber("品川300あ12-34")), "2026-11-06 08:00:00", "2026-11-06 08:40:00", 1250),
	}
	got, err := billing.OtherVehicleUsage(ym("2026-11"), us, cards)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Usage.RecordID() != "R2" || got[0].CardVehicle != vehicle {
		t.Errorf("got %+v, want only R2 by 練馬 500 さ 56-78", got)
	}
	if _, err := billing.OtherVehicleUsage(ym("2026-11"), us, nil); !errors.Is(err, billing.ErrUnknownUsageCard) {
		t.Errorf("err = %v", err)
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	nov := ym("2026-11")
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-11-02", "2026-11-02", "", 0)}
	st := domaintest.Must(billing.Compute(settings, customer, nov, cards, []billing.UsageRecord{usage("R1", 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)}))
	issued := billing.InvoiceIssued{Invoice: billing.InvoiceNumberFor(contractNo, nov), IssuedOn: domaintest.Date("2026-11-30"), Statement: st}
	var inv billing.Invoice
	inv.Apply(issued)
	adj := domaintest.Must(inv.Reconcile(domaintest.Must(billing.Compute(settings, customer, nov, cards, nil)), domaintest.Date("2026-12-10")))[0]
	file := billing.UsageFileImported{SHA256: "ab", Name: "u.csv", Encoding: "UTF-8", Rows: 2, Imported: 1, AlreadyKnown: 1, UnknownCards: []string{}, ImportedOn: domaintest.Date("2026-12-01")}
	back := domaintest.RoundTrip(t, []domain.Event{issued, adj, file}, billing.EventTypes())
	if t.Failed() {
		return
	}
	// Replaying the decoded events gives the same aggregate decisions.
	var again billing.Invoice
	for _, e := range back {
		again.Apply(e)
	}
	if again.Effective().Summary.Total != 1650 { // ¥500 issue fee + ¥1,000 annual fee + ¥150 tax, toll withdrawn
		t.Errorf("after decoded adjustment total %s", again.Effective().Summary.Total)
	}
}

// TestMergeLines: a statement's lines split into toll and fee lines (in
// any order) merge back into the statement's detail order, the order its
// commitment hashes.
func TestMergeLines(t *testing.T) {
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2026-11-02", "2026-11-02", "", 0), cardRec(2, card.ReasonNew, "2025-11-10", "2025-11-10", "", 0)}
	var use []billing.UsageRecord
	for i := range 40 {
		// Out of order, and two passages per entry time (the key decides).
		day := 1 + (i*7)%28
		use = append(use, usage(fmt.Sprintf("R%02d", 39-i), int64(1+i%2), vehicle, fmt.Sprintf("2026-11-%02d 08:00:00", day), fmt.Sprintf("2026-11-%02d 09:00:00", day), 100))
	}
	st := domaintest.Must(billing.Compute(settings, customer, ym("2026-11"), cards, use))
	var tolls, fees []billing.Line
	for i := len(st.Lines) - 1; i >= 0; i-- {
		if l := st.Lines[i]; l.Kind == billing.KindToll {
			tolls = append(tolls, l)
		} else {
			fees = append(fees, l)
		}
	}
	if len(fees) != 3 || len(tolls) != 40 {
		t.Fatalf("%d fee and %d toll lines", len(fees), len(tolls))
	}
	got := billing.MergeLines(tolls, fees)
	if billing.Commit(got).SHA256 != billing.Commit(st.Lines).SHA256 {
		t.Fatalf("merged order differs:\n%v\nwant\n%v", got, st.Lines)
	}
	for i := 1; i < len(st.Lines); i++ {
		if a, b := st.Lines[i-1], st.Lines[i]; a.Card.String() > b.Card.String() || a.Card == b.Card && a.Kind == billing.KindToll && b.Kind != billing.KindToll {
			t.Fatalf("line %d (%s) before line %d (%s)", i-1, a.Key, i, b.Key)
		}
	}
}
