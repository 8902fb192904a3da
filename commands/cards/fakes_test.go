package cards_test

import (
	"context"
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

// Hand-written fakes of the ports of commands/cards. They keep domain
// events in memory and check expected versions like the event store, so
// the commands' rules are tested without PostgreSQL (the adapters have
// their own tests, and test/e2e runs everything against the real store).

// fakeStreams is cards.EventStreams in memory. AppendMany is all or
// nothing, like the store's transaction. fail, when set, is returned by the
// next append instead of writing.
type fakeStreams struct {
	streams map[string][]domain.Event
	appends [][]string // streams written per append call, in order
	fail    error
	pos     uint64
}

func newStreams() *fakeStreams { return &fakeStreams{streams: map[string][]domain.Event{}} }

// given appends events to stream without checks (the "given" of a test).
func (f *fakeStreams) given(stream string, events ...domain.Event) *fakeStreams {
	f.streams[stream] = append(f.streams[stream], events...)
	return f
}

func (f *fakeStreams) Load(_ context.Context, stream string, apply func(domain.Event)) (int64, error) {
	for _, e := range f.streams[stream] {
		apply(e)
	}
	return int64(len(f.streams[stream])), nil
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

func (f *fakeStreams) AppendMany(_ context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error) {
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
		f.streams[p.Stream] = append(f.streams[p.Stream], p.Events...)
		f.pos++
		out = append(out, es.AppendResult{StreamID: p.Stream, FirstVersion: first, LastVersion: int64(len(f.streams[p.Stream])), Position: es.Position{Commit: f.pos}})
		names = append(names, p.Stream)
	}
	f.appends = append(f.appends, names)
	return out, nil
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
