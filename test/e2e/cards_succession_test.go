package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/projections"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

var errInjected = errors.New("injected failure")

// hookedStore is the event store with a test hook around AppendMany: it can
// fail before the call reaches PostgreSQL, or after the call committed (the
// answer is lost). The steps inside the transaction are failed by database
// triggers (see failingTrigger). Production code has no hook.
type hookedStore struct {
	es.Store
	before, after bool
}

func (s *hookedStore) AppendMany(ctx context.Context, md es.Metadata, appends ...es.StreamAppend) ([]es.AppendResult, error) {
	if s.before {
		return nil, errInjected
	}
	res, err := s.Store.AppendMany(ctx, md, appends...)
	if err == nil && s.after {
		return nil, errInjected
	}
	return res, err
}

// failingTrigger makes the insert of an event row matching cond fail; with
// deferred it fails at COMMIT instead (after every row was inserted).
func (e *cardsEnv) failingTrigger(cond string, deferred bool) (drop func()) {
	e.t.Helper()
	stmts := []string{`CREATE OR REPLACE FUNCTION test_inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure on %', NEW.stream_id; END $$`}
	if deferred {
		stmts = append(stmts, `CREATE CONSTRAINT TRIGGER test_inject AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW WHEN (`+cond+`) EXECUTE FUNCTION test_inject_failure()`)
	} else {
		stmts = append(stmts, `CREATE TRIGGER test_inject BEFORE INSERT ON events FOR EACH ROW WHEN (`+cond+`) EXECUTE FUNCTION test_inject_failure()`)
	}
	for _, q := range stmts {
		if _, err := e.a.Pool.Exec(e.ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() {
		if _, err := e.a.Pool.Exec(e.ctx, `DROP TRIGGER test_inject ON events`); err != nil {
			e.t.Fatal(err)
		}
	}
}

// injection is a point between two steps of an issue, renewal or reissue.
type injection struct {
	name string
	arm  func(e *cardsEnv, s *hookedStore) (disarm func())
}

var injections = []injection{
	{"after_number_before_append", func(_ *cardsEnv, s *hookedStore) func() { s.before = true; return func() { s.before = false } }},
	// The old card's row is inserted first (renewal, reissue); failing the
	// new card's first row is "between old card and new card".
	{"before_new_card_row", func(e *cardsEnv, _ *hookedStore) func() {
		return e.failingTrigger(`NEW.stream_id LIKE 'card-%' AND NEW.version = 1`, false)
	}},
	{"before_claim_row", func(e *cardsEnv, _ *hookedStore) func() {
		return e.failingTrigger(`NEW.stream_id LIKE 'vehicle-%'`, false)
	}},
	{"at_commit_after_every_row", func(e *cardsEnv, _ *hookedStore) func() {
		return e.failingTrigger(`NEW.stream_id LIKE 'vehicle-%'`, true)
	}},
	{"after_commit_answer_lost", func(_ *cardsEnv, s *hookedStore) func() { s.after = true; return func() { s.after = false } }},
}

// TestCardSuccessionAtomic injects a failure between every pair of steps of
// a card issue, renewal and reissue, then checks that the vehicle claims,
// the card events and the card view agree, and that a retry of the same
// command (same command ID) succeeds exactly once.
func TestCardSuccessionAtomic(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	leaseUntil := func(year int) { // a renewal needs a lease extended past the card's expiry
		t.Helper()
		csv := strings.Replace(leaseCSV, "2028-03-31", fmt.Sprintf("%d-03-31", year), 1)
		if out, err := e.cli("lease", "import", e.file(fmt.Sprintf("leases%d.csv", year), csv)); err != nil {
			t.Fatalf("lease import: %v %s", err, out)
		}
	}
	hooked := &hookedStore{Store: e.a.Store}
	streams := commands.Streams{Store: hooked, Codec: e.a.Codec}
	svc := e.a.Cards().Service
	numbers := cardsdb.Numbers{Pool: e.a.Pool, Prefix: "91234"}
	issue := cmdcards.IssueCardHandler{Streams: streams, Leases: svc.Issue.Leases, Numbers: numbers, Clock: e.clock}
	renew := cmdcards.RenewCardHandler{Streams: streams, Leases: svc.Renew.Leases, Numbers: numbers, Clock: e.clock}
	reissue := cmdcards.ReissueCardHandler{Streams: streams, Numbers: numbers, Clock: e.clock}
	vehicles := strings.Split(strings.TrimSpace(strings.Split(leaseCSV, ",")[8]), ";")

	for i, inj := range injections {
		v := domaintest.Must(contract.ParseVehicleNumber(vehicles[i]))
		var current card.CardNumber
		kinds := []struct {
			name string
			run  func(ctx context.Context) (card.CardNumber, error)
		}{
			{"issue", func(ctx context.Context) (card.CardNumber, error) {
				n, _, err := issue.Handle(ctx, cmdcards.IssueCard{Contract: domaintest.Must(contract.ParseNumber("L-2026-001")), Vehicle: v, Type: domaintest.Must(card.ParseType("BLUE01"))})
				return n, err
			}},
			{"renew", func(ctx context.Context) (card.CardNumber, error) {
				n, _, err := renew.Handle(ctx, cmdcards.RenewCard{Card: current, ExpectedVersion: cmdcards.NoExpectedVersion})
				return n, err
			}},
			{"reissue", func(ctx context.Context) (card.CardNumber, error) {
				n, _, err := reissue.Handle(ctx, cmdcards.ReissueCard{Card: current, Reason: "磁気不良", ExpectedVersion: cmdcards.NoExpectedVersion})
				return n, err
			}},
		}
		for _, k := range kinds {
			if k.name == "renew" {
				leaseUntil(2029 + i)
			} else if k.name == "issue" {
				leaseUntil(2028 + i)
			}
			t.Run(inj.name+"/"+k.name, func(t *testing.T) {
				ctx := commands.WithMetadata(e.ctx, es.Metadata{CommandID: fmt.Sprintf("%s-%s", inj.name, k.name), Actor: es.Actor{Role: "test"}})
				eventsBefore := e.count(`SELECT count(*) FROM events`)
				disarm := inj.arm(e, hooked)
				_, err := k.run(ctx)
				disarm()
				if err == nil {
					t.Fatal("the injected failure was not seen")
				}
				committed := e.count(`SELECT count(*) FROM events`) - eventsBefore
				if want := map[bool]int{true: map[string]int{"issue": 2, "renew": 3, "reissue": 3}[k.name], false: 0}[inj.name == "after_commit_answer_lost"]; committed != want {
					t.Fatalf("%d events committed by the failed attempt, want %d (all or nothing)", committed, want)
				}
				e.checkCardsAgree(t)
				n, err := k.run(ctx) // the retry
				if err != nil {
					t.Fatalf("retry: %v", err)
				}
				if got := e.count(`SELECT count(*) FROM events`) - eventsBefore; got != map[string]int{"issue": 2, "renew": 3, "reissue": 3}[k.name] {
					t.Fatalf("%d events after the retry: the command took effect other than once", got)
				}
				e.checkCardsAgree(t)
				if claim := e.claimOf(t, v); claim != n.String() {
					t.Fatalf("vehicle claim names %s, the command answered %s", claim, n)
				}
				current = n
			})
		}
	}
}

// checkCardsAgree compares the three records of "in use": the vehicle claim
// streams, the card streams and the card view (after it caught up).
func (e *cardsEnv) checkCardsAgree(t *testing.T) {
	t.Helper()
	head, err := e.a.Store.Head(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.a.Runner.WaitFor(e.ctx, head); err != nil {
		t.Fatal(err)
	}
	claims := e.strings(`SELECT card FROM (SELECT DISTINCT ON (stream_id) type, data->>'card' AS card FROM events
		WHERE stream_id LIKE 'vehicle-%' ORDER BY stream_id, version DESC) last WHERE type = 'card.vehicle_claimed' ORDER BY card`)
	logInUse := e.strings(`SELECT substr(stream_id, 6) FROM events WHERE stream_id LIKE 'card-%' GROUP BY stream_id
		HAVING bool_and(type NOT IN ('card.renewed', 'card.invalidated', 'card.cancelled')) ORDER BY 1`)
	view := e.strings(`SELECT card FROM ` + projections.Schema(projcards.CardsName) + `.cards WHERE state = 'in_use' ORDER BY card`)
	if !slices.Equal(claims, logInUse) || !slices.Equal(claims, view) {
		t.Fatalf("in use disagree:\nclaims %v\ncards  %v\nview   %v", claims, logInUse, view)
	}
	// One card in use per vehicle: each claim stream's last claim names
	// one card, and the view's cards in use are exactly those (the view
	// keeps the plates sealed, so it is not grouped by plate here).
	if perVehicle := e.count(`SELECT count(*) FROM (SELECT DISTINCT ON (stream_id) type FROM events WHERE stream_id LIKE 'vehicle-%' ORDER BY stream_id, version DESC) last
		WHERE type = 'card.vehicle_claimed'`); perVehicle != len(view) {
		t.Fatalf("%d vehicles claimed, %d cards in use", perVehicle, len(view))
	}
}

func (e *cardsEnv) claimOf(t *testing.T, v contract.VehicleNumber) string {
	t.Helper()
	out := e.strings(`SELECT data->>'card' FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1`, cmdcards.VehicleStream(v))
	if len(out) != 1 {
		t.Fatalf("no claim for %s", v)
	}
	return out[0]
}

func (e *cardsEnv) strings(q string, args ...any) []string {
	e.t.Helper()
	rows, err := e.a.Pool.Query(e.ctx, q, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestLegacyCardRegistryMovesIntoClaims: a database from before migration
// 02010 had card_registry; on start, every in-use card the log agrees with
// gets its vehicle claim, once, and the old table goes.
func TestLegacyCardRegistryMovesIntoClaims(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	if _, err := e.a.Pool.Exec(e.ctx, `CREATE TABLE card_registry_legacy (card text PRIMARY KEY, contract text NOT NULL, vehicle_key text NOT NULL, state text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	// Two cards issued by the old code: events without claims, rows in the registry.
	v1, v2 := domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34")), domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 56-78"))
	var nums []card.CardNumber
	for i, v := range []contract.VehicleNumber{v1, v2} {
		n, _ := card.NewCardNumber("91234", int64(900+i))
		lease, err := e.a.Cards().Leases.Lookup(e.ctx, domaintest.Must(contract.ParseNumber("L-2026-001")))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := new(card.Card).Issue(card.IssueRequest{Card: n, Contract: domaintest.Must(contract.ParseNumber("L-2026-001")), AlphaName: domaintest.Must(contract.ParseAlphaName("Yamada Unyu Co., Ltd.")), Vehicle: v, Type: domaintest.Must(card.ParseType("BLUE01"))}, lease, false, domaintest.Must(domain.ParseDate("2026-11-02")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Streams.Append(e.ctx, cmdcards.CardStream(n), int64(es.NoStream), evs...); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Pool.Exec(e.ctx, `INSERT INTO card_registry_legacy VALUES ($1, 'L-2026-001', $2, 'in_use')`, n.String(), v.Key()); err != nil {
			t.Fatal(err)
		}
		nums = append(nums, n)
	}
	// A stale registry row the log does not back (its card was never appended).
	stale, _ := card.NewCardNumber("91234", 999)
	if _, err := e.a.Pool.Exec(e.ctx, `INSERT INTO card_registry_legacy VALUES ($1, 'L-2026-001', 'X', 'in_use')`, stale.String()); err != nil {
		t.Fatal(err)
	}
	for run := range 2 { // the move may run again after a crash: nothing more happens
		if err := e.a.Cards().Prepare(e.ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if c1, c2 := e.claimOf(t, v1), e.claimOf(t, v2); c1 != nums[0].String() || c2 != nums[1].String() {
			t.Fatalf("claims %s %s", c1, c2)
		}
		if n := e.count(`SELECT count(*) FROM events WHERE stream_id LIKE 'vehicle-%'`); n != 2 {
			t.Fatalf("run %d: %d claim events", run, n)
		}
		if gone := e.count(`SELECT count(*) FROM pg_tables WHERE tablename = 'card_registry_legacy'`); gone != 0 {
			t.Fatal("legacy table still there")
		}
	}
	e.checkCardsAgree(t)
	// The claims now hold: a second card for v1 is refused.
	if st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, nil); st != 409 {
		t.Fatalf("second card for a legacy vehicle: %d %s", st, body)
	}
}
