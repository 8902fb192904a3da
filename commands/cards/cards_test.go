package cards_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

var ctx = context.Background()

func TestIssueCard(t *testing.T) {
	vehicleStream, newCard := cmdcards.VehicleStream(vehicle), cmdcards.CardStream(num(101))
	tests := []struct {
		name       string
		given      func(*fakeStreams)
		fail       error // the store's answer to the append
		wantErr    error
		wantVeh    []string // vehicle claim stream afterwards
		wantNumber bool     // a number was allocated
	}{
		{name: "issues_card_and_claims_vehicle_in_one_append",
			given:   func(s *fakeStreams) { s.given(cmdcards.ContractStream(contractNo), concluded()) },
			wantVeh: []string{card.EventVehicleClaimed}, wantNumber: true},
		{name: "vehicle_with_card_in_use_conflicts_before_allocating",
			given:   func(s *fakeStreams) { cardInUse(s, "2026-01-10", lease) },
			wantErr: card.ErrCardInUse, wantVeh: []string{card.EventVehicleClaimed}},
		{name: "contract_not_concluded_is_not_found",
			given:   func(*fakeStreams) {},
			wantErr: contract.ErrContractNotFound},
		{name: "lost_race_on_vehicle_claim_is_card_in_use_and_writes_nothing",
			given: func(s *fakeStreams) { s.given(cmdcards.ContractStream(contractNo), concluded()) },
			fail:  &es.WrongVersionError{Stream: vehicleStream, Expected: 0, Actual: 1}, wantErr: card.ErrCardInUse, wantNumber: true},
		{name: "store_down_writes_nothing",
			given: func(s *fakeStreams) { s.given(cmdcards.ContractStream(contractNo), concluded()) },
			fail:  es.ErrUnavailable, wantErr: es.ErrUnavailable, wantNumber: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, numbers := newStreams(), &fakeNumbers{}
			tt.given(s)
			s.fail = tt.fail
			h := cmdcards.IssueCardHandler{Streams: s, Leases: fakeLeases{lease}, Numbers: numbers, Clock: clockAt("2026-11-02")}
			n, _, err := h.Handle(ctx, cmdcards.IssueCard{Contract: contractNo, Vehicle: vehicle, Type: blue})
			if tt.wantErr != nil {
				thenErr(t, err, tt.wantErr)
			} else if err != nil || n != num(101) {
				t.Fatalf("got %v, %v", n, err)
			}
			if (numbers.calls > 0) != tt.wantNumber {
				t.Errorf("numbers allocated: %d", numbers.calls)
			}
			thenTypes(t, s, vehicleStream, tt.wantVeh...)
			if tt.wantErr == nil {
				thenTypes(t, s, newCard, card.EventIssued)
				if len(s.appends) != 1 || !slices.Equal(s.appends[0], []string{newCard, vehicleStream}) {
					t.Errorf("appends %v: want one AppendMany of card and claim", s.appends)
				}
			} else if len(s.events(newCard)) != 0 {
				t.Errorf("card stream written on failure: %v", typesOf(s.events(newCard)))
			}
		})
	}
}

// With ContractStates, a card issue replays the contract's stream only when
// it has changed since the state kept (here a business-calendar change);
// otherwise it reads the tail after the kept version only. A contract not
// concluded yet is not kept, so its conclusion is seen at once.
func TestIssueCardKeepsContractState(t *testing.T) {
	vs := []contract.VehicleNumber{vehicle}
	for _, p := range []string{"品川 300 あ 12-35", "品川 300 あ 12-36", "品川 300 あ 12-37"} {
		vs = append(vs, domaintest.Must(contract.ParseVehicleNumber(p)))
	}
	l := domaintest.Must(contract.NewLease(contractNo, "株式会社 山田運輸", domaintest.Date("2025-04-01"), domaintest.Date("2027-03-15"), vs))
	s, states := newStreams(), &cmdcards.ContractStates{}
	h := cmdcards.IssueCardHandler{Streams: s, Leases: fakeLeases{l}, Numbers: &fakeNumbers{}, Clock: clockAt("2026-11-02"), Contracts: states}
	issue := func(i int, want error) {
		t.Helper()
		_, _, err := h.Handle(ctx, cmdcards.IssueCard{Contract: contractNo, Vehicle: vs[i], Type: blue})
		if want != nil {
			thenErr(t, err, want)
		} else if err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
	stream := cmdcards.ContractStream(contractNo)
	issue(0, contract.ErrContractNotFound)
	s.given(stream, concluded())
	issue(0, nil)
	issue(1, nil)
	if n := s.replays[stream]; n != 2 {
		t.Fatalf("contract stream replayed %d times, want 2 (before and at conclusion)", n)
	}
	s.given(stream, contract.BusinessDaysChanged{Contract: contractNo, BusinessDays: contract.StandardBusinessCalendar(), ChangedOn: domaintest.Date("2026-11-01")})
	issue(2, nil)
	issue(3, nil)
	if n := s.replays[stream]; n != 3 {
		t.Fatalf("contract stream replayed %d times, want 3 (once more after it changed)", n)
	}
}

// A retry of a command whose append committed (same command ID, say after
// the answer was lost) answers with the card it issued and appends nothing;
// a retry after a failed append decides again and succeeds.
func TestCardCommandRetry(t *testing.T) {
	c := commands.WithMetadata(ctx, es.Metadata{CommandID: "cmd-1"})
	t.Run("issue_after_commit", func(t *testing.T) {
		s, numbers := newStreams(), &fakeNumbers{}
		s.given(cmdcards.ContractStream(contractNo), concluded())
		h := cmdcards.IssueCardHandler{Streams: s, Leases: fakeLeases{lease}, Numbers: numbers, Clock: clockAt("2026-11-02")}
		first, _, err := h.Handle(c, cmdcards.IssueCard{Contract: contractNo, Vehicle: vehicle, Type: blue})
		if err != nil {
			t.Fatal(err)
		}
		again, res, err := h.Handle(c, cmdcards.IssueCard{Contract: contractNo, Vehicle: vehicle, Type: blue})
		if err != nil || again != first || !res.Duplicate || len(s.appends) != 1 {
			t.Fatalf("retry: %v %+v %v; first %v; appends %v", again, res, err, first, s.appends)
		}
	})
	t.Run("renew_after_failed_append", func(t *testing.T) {
		s := cardInUse(newStreams(), "2025-06-10", leaseUntil("2026-11-20"))
		h := cmdcards.RenewCardHandler{Streams: s, Leases: fakeLeases{leaseUntil("2027-03-15")}, Numbers: &fakeNumbers{}, Clock: clockAt("2026-10-01")}
		s.fail = es.ErrUnavailable
		if _, _, err := h.Handle(c, cmdcards.RenewCard{Card: num(1), ExpectedVersion: cmdcards.NoExpectedVersion}); !errors.Is(err, es.ErrUnavailable) {
			t.Fatalf("first: %v", err)
		}
		n, res, err := h.Handle(c, cmdcards.RenewCard{Card: num(1), ExpectedVersion: cmdcards.NoExpectedVersion})
		if err != nil || res.Duplicate || n != num(101) {
			t.Fatalf("retry: %v %+v %v", n, res, err)
		}
		again, res, err := h.Handle(c, cmdcards.RenewCard{Card: num(1), ExpectedVersion: cmdcards.NoExpectedVersion})
		if err != nil || !res.Duplicate || again != n || len(s.appends) != 1 {
			t.Fatalf("second retry: %v %+v %v, appends %v", again, res, err, s.appends)
		}
	})
}

func TestRenewCard(t *testing.T) {
	oldStream, newStream, vehStream := cmdcards.CardStream(num(1)), cmdcards.CardStream(num(101)), cmdcards.VehicleStream(vehicle)
	tests := []struct {
		name     string
		given    func(*fakeStreams)
		lease    string
		expected int64
		wantErr  error
	}{
		{name: "renews_old_new_and_claim_in_one_append", given: func(s *fakeStreams) { cardInUse(s, "2025-06-10", leaseUntil("2026-11-20")) },
			lease: "2027-03-15", expected: cmdcards.NoExpectedVersion},
		{name: "matching_if_match_renews", given: func(s *fakeStreams) { cardInUse(s, "2025-06-10", leaseUntil("2026-11-20")) },
			lease: "2027-03-15", expected: 1},
		{name: "stale_if_match_is_version_conflict", given: func(s *fakeStreams) { cardInUse(s, "2025-06-10", leaseUntil("2026-11-20")) },
			lease: "2027-03-15", expected: 7, wantErr: es.ErrWrongExpectedVersion},
		{name: "lease_not_extended", given: func(s *fakeStreams) { cardInUse(s, "2025-06-10", leaseUntil("2026-11-20")) },
			lease: "2026-11-20", expected: cmdcards.NoExpectedVersion, wantErr: card.ErrLeaseNotExtended},
		{name: "claim_names_another_card_is_not_in_use", given: func(s *fakeStreams) {
			cardInUse(s, "2025-06-10", leaseUntil("2026-11-20"))
			s.given(vehStream, card.VehicleClaimed{Vehicle: vehicle, Card: num(9), Previous: num(1)})
		}, lease: "2027-03-15", expected: cmdcards.NoExpectedVersion, wantErr: card.ErrCardNotInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStreams()
			tt.given(s)
			claimsBefore := len(s.events(vehStream))
			h := cmdcards.RenewCardHandler{Streams: s, Leases: fakeLeases{leaseUntil(tt.lease)}, Numbers: &fakeNumbers{}, Clock: clockAt("2026-10-01")}
			n, _, err := h.Handle(ctx, cmdcards.RenewCard{Card: num(1), ExpectedVersion: tt.expected})
			if tt.wantErr != nil {
				thenErr(t, err, tt.wantErr)
				if len(s.events(newStream)) != 0 || len(s.events(vehStream)) != claimsBefore || len(s.events(oldStream)) != 1 {
					t.Errorf("written on failure: %v", s.appends)
				}
				return
			}
			if err != nil || n != num(101) {
				t.Fatalf("got %v, %v", n, err)
			}
			thenTypes(t, s, oldStream, card.EventIssued, card.EventRenewed)
			thenTypes(t, s, newStream, card.EventIssued)
			thenTypes(t, s, vehStream, card.EventVehicleClaimed, card.EventVehicleClaimed)
			if got := s.events(vehStream)[1].(card.VehicleClaimed); got.Card != num(101) || got.Previous != num(1) {
				t.Errorf("claim %+v", got)
			}
			if got := s.events(newStream)[0].(card.Issued); got.Reason != card.ReasonRenewal || got.Previous != num(1) || got.Expiry != money.MustYearMonth(2027, 3) {
				t.Errorf("new card %+v", got)
			}
			if len(s.appends) != 1 || len(s.appends[0]) != 3 {
				t.Errorf("appends %v: want one AppendMany of old card, new card and claim", s.appends)
			}
		})
	}
}

func TestReissueCard(t *testing.T) {
	tests := []struct {
		name, reason string
		wantReason   card.IssueReason
		wantErr      error
	}{
		{name: "magnetic_fault_by_japanese_label", reason: "磁気不良", wantReason: card.ReasonMagneticFault},
		{name: "lost", reason: "lost", wantReason: card.ReasonLost},
		{name: "unknown_reason_allocates_nothing", reason: "stolen", wantErr: card.ErrUnknownReissueReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, numbers := cardInUse(newStreams(), "2026-01-10", lease), &fakeNumbers{}
			h := cmdcards.ReissueCardHandler{Streams: s, Numbers: numbers, Clock: clockAt("2026-11-05")}
			n, _, err := h.Handle(ctx, cmdcards.ReissueCard{Card: num(1), Reason: tt.reason, ExpectedVersion: cmdcards.NoExpectedVersion})
			if tt.wantErr != nil {
				thenErr(t, err, tt.wantErr)
				if numbers.calls != 0 || len(s.appends) != 0 {
					t.Errorf("allocated %d, appended %v", numbers.calls, s.appends)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			thenTypes(t, s, cmdcards.CardStream(num(1)), card.EventIssued, card.EventInvalidated)
			if got := s.events(cmdcards.CardStream(n))[0].(card.Issued); got.Reason != tt.wantReason || got.Previous != num(1) {
				t.Errorf("new card %+v", got)
			}
			var claim card.VehicleClaim
			s.Load(ctx, cmdcards.VehicleStream(vehicle), claim.Apply)
			if claim.InUse() != n {
				t.Errorf("vehicle claim names %v, want %v", claim.InUse(), n)
			}
		})
	}
}

// The reissue-fee exemption (domain.md: no issue fee for a reissue after a
// magnetic fault or damage) as a newcomer meets it: reissue through the
// command, bill the month through the billing command, look at the lines.
// The rule itself is card.IssueReason.IssueFeeExempt.
func TestReissueFeeExemptionInBilling(t *testing.T) {
	settings := domaintest.Must(billing.NewSettings("Gantry Leasing K.K.", domaintest.Must(money.ParseRegistrationNumber("T7000012050002")), billing.DefaultIssueFee, billing.DefaultAnnualFee))
	tests := []struct {
		reason      string
		wantFeeYen  money.Yen // issue fee billed for the new card
		wantFeeLine bool
	}{
		{reason: "magnetic_fault"},
		{reason: "damage"},
		{reason: "lost", wantFeeYen: billing.DefaultIssueFee, wantFeeLine: true},
		{reason: "card_type_change", wantFeeYen: billing.DefaultIssueFee, wantFeeLine: true},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s := cardInUse(newStreams(), "2026-01-10", lease)
			clock := clockAt("2026-11-05")
			req := cmdcards.ReissueCard{Card: num(1), Reason: tt.reason, ExpectedVersion: cmdcards.NoExpectedVersion}
			if tt.reason == "card_type_change" {
				req.Type = domaintest.Must(card.ParseType("RED02"))
			}
			n, _, err := cmdcards.ReissueCardHandler{Streams: s, Numbers: &fakeNumbers{}, Clock: clock}.Handle(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			clock.Set(clock.Now().AddDate(0, 0, 25))
			run := cmdcards.RunBillingHandler{Streams: s, Lines: s, Reader: viewFromStreams{s}, Settings: settings, Clock: clock, WaitFor: func(context.Context) error { return nil }}
			out, _, err := run.Handle(ctx, cmdcards.RunBilling{Month: money.MustYearMonth(2026, 11)})
			if err != nil || len(out) != 1 {
				t.Fatalf("billing: %+v %v", out, err)
			}
			var inv billing.Invoice
			if _, err := cmdcards.LoadInvoice(ctx, s, s, domaintest.Must(billing.ParseInvoiceNumber(out[0].Invoice)), &inv); err != nil || inv.Issued() && !inv.LinesKnown() {
				t.Fatalf("load invoice: %v (lines known %v)", err, inv.LinesKnown())
			}
			var fee money.Yen
			lines := 0
			for _, l := range inv.Effective().Lines {
				if l.Kind == billing.KindIssueFee && l.Card == n {
					fee += l.Amount
					lines++
				}
			}
			if fee != tt.wantFeeYen || (lines > 0) != tt.wantFeeLine {
				t.Errorf("issue fee for %s reissue: %d yen in %d lines, want %d", tt.reason, fee, lines, tt.wantFeeYen)
			}
		})
	}
}

func TestMonthEnd(t *testing.T) {
	s := cardInUse(newStreams(), "2025-06-10", leaseUntil("2026-10-20")) // expires 2026-10
	clock := clockAt("2026-10-31")
	h := cmdcards.MonthEndHandler{Streams: s, Due: viewFromStreams{s}, Clock: clock}
	if n, err := h.Handle(ctx); err != nil || n != 0 {
		t.Fatalf("within the expiry month: %d %v", n, err)
	}
	clock.Set(clock.Now().AddDate(0, 0, 1))
	for run, want := range []int{1, 0} { // twice = once
		n, err := h.Handle(ctx)
		if err != nil || n != want {
			t.Fatalf("run %d: cancelled %d, %v; want %d", run, n, err, want)
		}
	}
	thenTypes(t, s, cmdcards.CardStream(num(1)), card.EventIssued, card.EventCancelled)
	thenTypes(t, s, cmdcards.VehicleStream(vehicle), card.EventVehicleClaimed, card.EventVehicleReleased)
	if len(s.appends) != 1 || len(s.appends[0]) != 2 {
		t.Errorf("appends %v: want card and claim in one", s.appends)
	}
	// The vehicle is free again: a new card may be issued.
	_, _, err := cmdcards.IssueCardHandler{Streams: s, Leases: fakeLeases{lease}, Numbers: &fakeNumbers{}, Clock: clock}.
		Handle(ctx, cmdcards.IssueCard{Contract: contractNo, Vehicle: vehicle, Type: blue})
	if err != nil {
		t.Fatalf("issue after month end: %v", err)
	}
}

func TestRenewalNotices(t *testing.T) {
	s := cardInUse(newStreams(), "2026-01-10", lease) // expires 2027-03, notice from 2027-01-01
	clock := clockAt("2026-12-31")
	h := cmdcards.RenewalNoticesHandler{Streams: s, Due: viewFromStreams{s}, Clock: clock}
	if n, err := h.Handle(ctx); err != nil || n != 0 {
		t.Fatalf("before due: %d %v", n, err)
	}
	clock.Set(clock.Now().AddDate(0, 0, 1))
	for run, want := range []int{1, 0} {
		if n, err := h.Handle(ctx); err != nil || n != want {
			t.Fatalf("run %d: %d %v", run, n, err)
		}
	}
	thenTypes(t, s, cmdcards.CardStream(num(1)), card.EventIssued, card.EventRenewalNoticeRecorded)
}

// fakeUsage is cards.UsageReader, cards.UsageStore and cards.UsageLoader.
// Its Import is one transaction over the fake streams: loads count as
// committed only when the append succeeds.
type fakeUsage struct {
	streams   *fakeStreams
	parseErr  error
	chunks    [][]billing.UsageRecord
	loads     int // records loaded in transactions still open or committed
	committed int
}

func (f *fakeUsage) ReadUsage(r io.Reader, each func([]billing.UsageRecord) error) (string, int, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return "", 0, err
	}
	rows := 0
	for _, c := range f.chunks {
		if err := each(c); err != nil {
			return "", 0, err
		}
		rows += len(c)
	}
	return "UTF-8", rows, f.parseErr
}

func (f *fakeUsage) Load(_ context.Context, records []billing.UsageRecord) error {
	f.loads += len(records)
	return nil
}

func (f *fakeUsage) Result() cmdcards.UsageLoad {
	return cmdcards.UsageLoad{Imported: f.loads, UnknownCards: []string{"4111111111111111"}}
}

func (f *fakeUsage) Import(ctx context.Context, fill func(context.Context, cmdcards.UsageLoader) ([]commands.StreamEvents, error)) ([]es.AppendResult, error) {
	f.loads = 0
	parts, err := fill(ctx, f)
	if err == nil {
		var res []es.AppendResult
		if res, err = f.streams.AppendMany(ctx, parts...); err == nil {
			f.committed += f.loads
			return res, nil
		}
	}
	f.loads = 0 // rolled back
	return nil, err
}

func TestImportUsage(t *testing.T) {
	rec := usageRecord(t)
	t.Run("bad_file_loads_and_records_nothing", func(t *testing.T) {
		s := newStreams()
		u := &fakeUsage{streams: s, chunks: [][]billing.UsageRecord{{rec}}, parseErr: &cmdcards.UsageFileError{Encoding: "UTF-8", Problems: []cmdcards.UsageLineProblem{{Line: 2, Field: "toll", Reason: "x"}}}}
		_, err := cmdcards.ImportUsageHandler{Streams: s, Reader: u, Store: u, Clock: clockAt("2026-11-05")}.Handle(ctx, cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader("x")})
		var fe *cmdcards.UsageFileError
		if !errors.As(err, &fe) || u.committed != 0 || len(s.appends) != 0 {
			t.Fatalf("err %v, committed %d, appends %v", err, u.committed, s.appends)
		}
	})
	t.Run("same_file_twice_loads_once", func(t *testing.T) {
		s := newStreams()
		u := &fakeUsage{streams: s, chunks: [][]billing.UsageRecord{{rec, rec}, {rec}}}
		var progress []int
		h := cmdcards.ImportUsageHandler{Streams: s, Reader: u, Store: u, Clock: clockAt("2026-11-05")}
		first, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader("x"), Progress: func(n int) { progress = append(progress, n) }})
		if err != nil || first.Duplicate || first.Rows != 3 || first.Imported != 3 || len(first.UnknownCards) != 1 || !slices.Equal(progress, []int{2, 3}) {
			t.Fatalf("first %+v %v, progress %v", first, err, progress)
		}
		if want := sha256.Sum256([]byte("x")); first.SHA256 != hex.EncodeToString(want[:]) {
			t.Fatalf("sha256 %s", first.SHA256)
		}
		second, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader("x")})
		if err != nil || !second.Duplicate || u.committed != 3 {
			t.Fatalf("second %+v %v, committed %d", second, err, u.committed)
		}
		thenTypes(t, s, cmdcards.UsageFileStream(first.SHA256), billing.EventUsageFileImported)
	})
	t.Run("cancelled_import_writes_nothing", func(t *testing.T) {
		s := newStreams()
		u := &fakeUsage{streams: s, chunks: [][]billing.UsageRecord{{rec}}}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := cmdcards.ImportUsageHandler{Streams: s, Reader: u, Store: u, Clock: clockAt("2026-11-05")}.Handle(cancelled, cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader("x")})
		if !errors.Is(err, context.Canceled) || u.committed != 0 || len(s.appends) != 0 {
			t.Fatalf("err %v, committed %d, appends %v", err, u.committed, s.appends)
		}
	})
}

func usageRecord(t *testing.T) billing.UsageRecord {
	t.Helper()
	at := time.Date(2026, 11, 4, 8, 0, 0, 0, domain.Tokyo)
	return domaintest.Must(billing.NewUsageRecord(billing.UsageFields{RecordID: "R-1", Operator: "NEXCO-E", Card: num(1).String(),
		Vehicle: "品川 300 あ 12-34", EntryIC: "東京", EntryAt: at, ExitIC: "厚木", ExitAt: at.Add(40 * time.Minute), Toll: 1000}))
}

// thenErr checks err against want: the domain error with an actionable
// detail, or any other error by identity.
func thenErr(t *testing.T, err, want error) {
	t.Helper()
	var de *domain.Error
	if errors.As(want, &de) {
		domaintest.ThenErr(t, err, want)
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

// Hand-written fakes of the ports of commands/cards. They keep domain
// events in memory and check expected versions like the event store, so
// the commands' rules are tested without PostgreSQL (the adapters have
// their own tests, and test/e2e runs everything against the real store).

// fakeStreams is cards.EventStreams in memory. AppendMany is all or
// nothing, like the store's transaction. fail, when set, is returned by the
// next append instead of writing.
type fakeStreams struct {
	streams map[string][]domain.Event
	replays map[string]int // whole-stream loads per stream
	appends [][]string     // streams written per append call, in order
	fail    error
	pos     uint64
	// lines is the invoice line store (fakeStreams is also the
	// InvoiceLines port): document/part → lines.
	lines map[string][]billing.Line
}

func newStreams() *fakeStreams {
	return &fakeStreams{streams: map[string][]domain.Event{}, lines: map[string][]billing.Line{}}
}

func (f *fakeStreams) Keep(sets ...billing.DocumentLines) es.TxWrite {
	return func(context.Context, es.TxExec) error {
		for _, s := range sets {
			f.lines[s.Document.String()+"/"+string(s.Part)] = slices.Clone(s.Lines)
		}
		return nil
	}
}

func (f *fakeStreams) Lines(_ context.Context, doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
	return slices.Clone(f.lines[doc.String()+"/"+string(part)]), nil
}

// stored is an event as the log keeps it: invoice events without their
// lines (see billing.InvoiceIssued.MarshalJSON).
func stored(e domain.Event) domain.Event {
	switch ev := e.(type) {
	case billing.InvoiceIssued:
		ev.Statement.Lines = nil
		return ev
	case billing.AdjustmentIssued:
		ev.Removed, ev.Added = nil, nil
		return ev
	}
	return e
}

// given appends events to stream without checks (the "given" of a test).
func (f *fakeStreams) given(stream string, events ...domain.Event) *fakeStreams {
	f.streams[stream] = append(f.streams[stream], events...)
	return f
}

func (f *fakeStreams) Load(_ context.Context, stream string, apply func(domain.Event)) (int64, error) {
	if f.replays == nil {
		f.replays = map[string]int{}
	}
	f.replays[stream]++
	for _, e := range f.streams[stream] {
		apply(e)
	}
	return int64(len(f.streams[stream])), nil
}

func (f *fakeStreams) LoadAfter(_ context.Context, stream string, version int64, apply func(domain.Event)) (int64, error) {
	evs := f.streams[stream]
	for _, e := range evs[min(int(version), len(evs)):] {
		apply(e)
	}
	return max(version, int64(len(evs))), nil
}

func (f *fakeStreams) Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error) {
	if len(events) == 0 {
		return es.AppendResult{StreamID: stream, LastVersion: expected}, nil
	}
	res, err := f.AppendMany(ctx, commands.StreamEvents{Stream: stream, Expected: expected, Events: events})
	if err != nil {
		return es.AppendResult{}, err
	}
	return res[0], nil
}

func (f *fakeStreams) AppendMany(ctx context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error) {
	if err := f.fail; err != nil {
		f.fail = nil
		return nil, err
	}
	for _, p := range parts {
		if len(p.Events) == 0 {
			continue
		}
		if v := int64(len(f.streams[p.Stream])); p.Expected != int64(es.Any) && p.Expected != v {
			return nil, &es.WrongVersionError{Stream: p.Stream, Expected: es.ExpectedVersion(p.Expected), Actual: v}
		}
	}
	var out []es.AppendResult
	var names []string
	for _, p := range parts {
		if len(p.Events) == 0 {
			continue
		}
		first := int64(len(f.streams[p.Stream])) + 1
		for _, e := range p.Events {
			f.streams[p.Stream] = append(f.streams[p.Stream], stored(e))
		}
		f.pos++
		out = append(out, es.AppendResult{StreamID: p.Stream, FirstVersion: first, LastVersion: int64(len(f.streams[p.Stream])), Position: es.Position{Commit: f.pos}})
		names = append(names, p.Stream)
	}
	f.appends = append(f.appends, names)
	return out, nil
}

// AppendInTx appends like Append, then runs write (the fake's line store
// ignores the transaction).
func (f *fakeStreams) AppendInTx(ctx context.Context, stream string, expected int64, write es.TxWrite, evs ...domain.Event) (es.AppendResult, error) {
	res, err := f.Append(ctx, stream, expected, evs...)
	if err != nil || write == nil {
		return res, err
	}
	return res, write(ctx, nil)
}

// events returns the events of stream.
func (f *fakeStreams) events(stream string) []domain.Event { return f.streams[stream] }

// cards returns every card aggregate in the streams.
func (f *fakeStreams) cards() []*card.Card {
	var out []*card.Card
	for _, s := range slices.Sorted(maps.Keys(f.streams)) {
		if strings.HasPrefix(s, "card-") {
			c := new(card.Card)
			f.Load(context.Background(), s, c.Apply)
			out = append(out, c)
		}
	}
	return out
}

// fakeNumbers is cards.CardNumbers: serials from 1, the same number again
// for a command ID seen before.
type fakeNumbers struct {
	next  int64
	byCmd map[string]card.CardNumber
	calls int
}

func (n *fakeNumbers) Next(_ context.Context, commandID string) (card.CardNumber, error) {
	n.calls++
	if c, ok := n.byCmd[commandID]; ok && commandID != "" {
		return c, nil
	}
	n.next++
	c := num(n.next + 100)
	if n.byCmd == nil {
		n.byCmd = map[string]card.CardNumber{}
	}
	n.byCmd[commandID] = c
	return c, nil
}

func (n *fakeNumbers) Given(_ context.Context, commandID string) (card.CardNumber, bool, error) {
	c, ok := n.byCmd[commandID]
	return c, ok && commandID != "", nil
}

// fakeLeases is cards.LeaseLookup with one lease.
type fakeLeases struct{ lease contract.Lease }

func (l fakeLeases) Lookup(context.Context, contract.Number) (contract.Lease, error) {
	return l.lease, nil
}

// viewFromStreams is cards.DueCards and cards.BillingFacts answered from the
// fake streams, as the projections would after catching up.
type viewFromStreams struct{ s *fakeStreams }

func (v viewFromStreams) ExpiredInUse(_ context.Context, before money.YearMonth) ([]card.CardNumber, error) {
	var out []card.CardNumber
	for _, c := range v.s.cards() {
		if c.State() == card.StateInUse && c.Expiry().Before(before) {
			out = append(out, c.Number())
		}
	}
	return out, nil
}

func (v viewFromStreams) RenewalNoticeCandidates(_ context.Context, by money.YearMonth) ([]card.CardNumber, error) {
	var out []card.CardNumber
	for _, c := range v.s.cards() {
		if c.State() == card.StateInUse && c.RenewalNoticeOn().IsZero() && !c.Expiry().After(by) {
			out = append(out, c.Number())
		}
	}
	return out, nil
}

func (v viewFromStreams) Contracts(_ context.Context, only string) ([]projcards.ContractRow, error) {
	var out []projcards.ContractRow
	for s := range maps.Keys(v.s.streams) {
		if !strings.HasPrefix(s, "contract-") {
			continue
		}
		var k contract.Contract
		v.s.Load(context.Background(), s, k.Apply)
		if only == "" || only == k.Number().String() {
			out = append(out, projcards.ContractRow{Contract: k.Number().String(), CustomerName: k.CustomerName()})
		}
	}
	return out, nil
}

func (v viewFromStreams) CardRecords(_ context.Context, contractNo string) ([]billing.CardRecord, error) {
	var out []billing.CardRecord
	for _, c := range v.s.cards() {
		if c.Contract().String() == contractNo {
			out = append(out, billing.CardRecordOf(c))
		}
	}
	return out, nil
}

func (viewFromStreams) Usage(context.Context, []billing.CardRecord, money.YearMonth) ([]billing.UsageRecord, error) {
	return nil, nil
}

// Fixtures: contract L-2025-0042 leasing one vehicle until 2027-03-15.
var (
	contractNo = domaintest.Must(contract.ParseNumber("L-2025-0042"))
	vehicle    = domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34"))
	blue       = domaintest.Must(card.ParseType("BLUE01"))
	lease      = leaseUntil("2027-03-15")
)

func leaseUntil(end string) contract.Lease {
	return domaintest.Must(contract.NewLease(contractNo, "株式会社 山田運輸", domaintest.Date("2025-04-01"), domaintest.Date(end), []contract.VehicleNumber{vehicle}))
}

func num(serial int64) card.CardNumber { return domaintest.Must(card.NewCardNumber("91234", serial)) }

func concluded() domain.Event {
	app := contract.Application{
		Contract: contractNo, CustomerName: "株式会社 山田運輸",
		AlphaName:    domaintest.Must(contract.ParseAlphaName("Yamada Unyu")),
		Contact:      domaintest.Must(contract.NewContact("東京都港区芝公園1-1-1", "03-1234-5678", "山田 太郎")),
		BankAccount:  domaintest.Must(contract.NewBankAccount("0001", "123", contract.AccountOrdinary, "1234567", "ｶ)ﾔﾏﾀﾞｳﾝﾕ")),
		BusinessDays: contract.StandardBusinessCalendar(),
	}
	evs := domaintest.Must(new(contract.Contract).Conclude(app, lease, domaintest.Date("2025-05-01")))
	return evs[0]
}

// cardInUse is the given history of card serial 1 in use for vehicle since
// issuedOn, with its vehicle claim.
func cardInUse(s *fakeStreams, issuedOn string, l contract.Lease) *fakeStreams {
	k := new(contract.Contract)
	k.Apply(concluded())
	req := card.IssueRequest{Card: num(1), Contract: contractNo, AlphaName: k.AlphaName(), Vehicle: vehicle, Type: blue}
	evs := domaintest.Must(new(card.Card).Issue(req, l, false, domaintest.Date(issuedOn)))
	return s.given(cmdcards.ContractStream(contractNo), concluded()).
		given(cmdcards.CardStream(num(1)), evs...).
		given(cmdcards.VehicleStream(vehicle), card.VehicleClaimed{Vehicle: vehicle, Card: num(1)})
}

func clockAt(day string) *commands.ManualClock {
	d := domaintest.Date(day)
	return commands.NewManualClock(time.Date(d.Year, d.Month, d.Day, 10, 0, 0, 0, domain.Tokyo))
}

// typesOf lists the event types of evs, to compare with a test's "then".
func typesOf(evs []domain.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventType()
	}
	return out
}

func thenTypes(t *testing.T, s *fakeStreams, stream string, want ...string) {
	t.Helper()
	if got := typesOf(s.events(stream)); !slices.Equal(got, want) {
		t.Errorf("%s: events %v, want %v", stream, got, want)
	}
}

// A billing run reports its progress per contract, and a cancelled context
// (Ctrl-C) stops it before it writes anything more.
func TestBillingRunProgressAndCancel(t *testing.T) {
	settings := domaintest.Must(billing.NewSettings("Gantry Leasing K.K.", domaintest.Must(money.ParseRegistrationNumber("T7000012050002")), billing.DefaultIssueFee, billing.DefaultAnnualFee))
	s := cardInUse(newStreams(), "2026-11-02", lease)
	clock := clockAt("2026-12-01")
	run := cmdcards.RunBillingHandler{Streams: s, Lines: s, Reader: viewFromStreams{s}, Settings: settings, Clock: clock, WaitFor: func(context.Context) error { return nil }}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := run.Handle(cctx, cmdcards.RunBilling{Month: money.MustYearMonth(2026, 11)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	number := billing.InvoiceNumberFor(contractNo, money.MustYearMonth(2026, 11))
	if evs := s.events(cmdcards.InvoiceStream(number)); len(evs) != 0 {
		t.Fatalf("a cancelled run wrote %d invoice events", len(evs))
	}
	var seen [][2]int
	out, _, err := run.Handle(ctx, cmdcards.RunBilling{Month: money.MustYearMonth(2026, 11), Progress: func(done, total int) { seen = append(seen, [2]int{done, total}) }})
	if err != nil || len(out) != 1 || out[0].Action != "issued" {
		t.Fatalf("run: %+v %v", out, err)
	}
	if len(seen) != 1 || seen[0] != [2]int{1, 1} {
		t.Fatalf("progress calls %v, want [[1 1]]", seen)
	}
}
