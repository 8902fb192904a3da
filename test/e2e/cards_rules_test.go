package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	projcards "github.com/gantry-etc/gantry/projections/cards"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// inUseClaims counts vehicles whose claim stream names a card in use.
const inUseClaims = `SELECT count(*) FROM (SELECT DISTINCT ON (stream_id) type FROM events
	WHERE stream_id LIKE 'vehicle-%' ORDER BY stream_id, version DESC) last WHERE type = 'card.vehicle_claimed'`

// Concurrent issues for one vehicle: exactly one card, the rest 409.
// Concurrent issues for different vehicles: all numbers distinct.
func TestCardsConcurrentIssue(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	const n = 8
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i], _ = e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, nil)
		})
	}
	wg.Wait()
	created, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflict++
		}
	}
	if created != 1 || conflict != n-1 {
		t.Fatalf("codes %v", codes)
	}
	vehicles := []string{"品川 300 あ 56-78", "品川 300 い 90-12", "品川 300 う 11-11", "品川 300 う 22-22", "品川 300 う 33-33", "品川 300 う 44-44", "品川 300 う 55-55"}
	nums := make([]string, len(vehicles))
	for i, v := range vehicles {
		wg.Go(func() {
			var c projcards.CardRow
			if st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": v, "card_type": "BLUE01"}, &c); st != 201 {
				t.Errorf("issue %s: %d %s", v, st, body)
			}
			nums[i] = c.Card
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, x := range nums {
		if x == "" || seen[x] {
			t.Fatalf("numbers not unique: %v", nums)
		}
		seen[x] = true
	}
	if got := e.count(inUseClaims); got != 8 {
		t.Fatalf("in use = %d", got)
	}
}

// Renewal notice two months ahead, renewal and reissue, month-end
// cancellation (twice = once).
func TestCardsLifecycleJobs(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	var a, b projcards.CardRow
	e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, &a)
	e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 56-78", "card_type": "BLUE01"}, &b)
	// Reissue b for magnetic fault: old invalid, new in use, same expiry.
	var b2 projcards.CardRow
	if st, body := e.do("POST", "/v1/cards/"+b.Card+"/reissue", e.admin, map[string]string{"reason": "磁気不良"}, &b2); st != 201 || b2.Reason != "magnetic_fault" || b2.Previous != b.Card || b2.FirstIssuedOn != b.FirstIssuedOn {
		t.Fatalf("reissue: %d %s", st, body)
	}
	var old projcards.CardRow
	e.do("GET", "/v1/cards/"+b.Card, e.admin, nil, &old)
	if old.State != "invalid" || old.Successor != b2.Card {
		t.Fatalf("old card: %+v", old)
	}
	// Cards expire 2028-03: notice from 2028-01-01.
	e.clock.Set(time.Date(2027, 12, 31, 9, 0, 0, 0, domain.Tokyo))
	if err := e.a.RunJob(e.ctx, "cards-renewal-notices"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2028, 1, 5, 9, 0, 0, 0, domain.Tokyo))
	for range 2 {
		if err := e.a.RunJob(e.ctx, "cards-renewal-notices"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(`SELECT count(*) FROM events WHERE type = 'card.renewal_notice_recorded'`); n != 2 {
		t.Fatalf("notices = %d, want 2", n)
	}
	// Each notice is mailed once, to the card desk, naming card and expiry.
	e.inbox.Wait(t, 2)
	time.Sleep(200 * time.Millisecond) // a third (duplicate) mail would show now
	mails := e.inbox.Mails()
	if len(mails) != 2 {
		t.Fatalf("%d renewal mails, want 2", len(mails))
	}
	for _, m := range mails {
		body := smtptest.Decode(m.Data)
		if len(m.To) != 1 || m.To[0] != "cards-desk@lessor.example" || !strings.Contains(body, "2028/03") ||
			!strings.Contains(body, a.Card) && !strings.Contains(body, b2.Card) {
			t.Fatalf("renewal mail to %v:\n%s", m.To, body)
		}
	}
	// Month end after 2028-03: both in-use cards cancelled; twice = once.
	e.clock.Set(time.Date(2028, 4, 1, 0, 5, 0, 0, domain.Tokyo))
	for range 2 {
		if err := e.a.RunJob(e.ctx, "cards-month-end"); err != nil {
			t.Fatal(err)
		}
		head, err := e.a.Store.Head(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.a.Runner.WaitFor(e.ctx, head); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(`SELECT count(*) FROM events WHERE type = 'card.cancelled'`); n != 2 {
		t.Fatalf("cancelled events = %d, want 2", n)
	}
	var cards []projcards.CardRow
	tok := e.a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"})
	if st, body := e.do("GET", "/v1/cards?contract=L-2026-001&state=cancelled", tok, nil, &cards); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	if len(cards) != 2 {
		t.Fatalf("cancelled cards: %+v", cards)
	}
}

// contract.concluded v1 (no business calendar) reads back upcast with the
// standard calendar.
func TestContractConcludedUpcastV1(t *testing.T) {
	e := newCardsEnv(t)
	n, _ := contract.ParseNumber("L-OLD-1")
	alpha, _ := contract.ParseAlphaName("OLD CO")
	contact, _ := contract.NewContact("東京都", "0312345678", "旧 太郎")
	bank, _ := contract.NewBankAccount("0001", "123", contract.AccountOrdinary, "1234567", "キュウ")
	lease, _ := contract.NewLease(n, "旧株式会社", domain.Date{Year: 2020, Month: 1, Day: 1}, domain.Date{Year: 2030, Month: 1, Day: 1}, nil)
	data, err := e.a.Codec.Encode(e.ctx, contract.Concluded{Contract: n, CustomerName: "旧株式会社", AlphaName: alpha, Lease: lease,
		Contact: domain.Seal(n.String(), contact), BankAccount: domain.Seal(n.String(), bank), ConcludedOn: domain.Date{Year: 2020, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data[0].Data, &m)
	delete(m, "business_days")
	data[0].Data, _ = json.Marshal(m)
	data[0].SchemaVersion = 1
	if _, err := e.a.Store.Append(e.ctx, cmdcards.ContractStream(n), es.NoStream, es.Metadata{}, data...); err != nil {
		t.Fatal(err)
	}
	var c contract.Contract
	if _, err := e.a.Streams.Load(e.ctx, cmdcards.ContractStream(n), c.Apply); err != nil {
		t.Fatal(err)
	}
	if !c.BusinessDays().Equal(contract.StandardBusinessCalendar()) {
		t.Fatalf("calendar not upcast: %+v", c.BusinessDays())
	}
}

// With GANTRY_LEASE_URL, contracts are checked against the lease system
// over HTTP: a known lease concludes, an unknown one is a 422, and a lease
// system that fails is a 503 problem with nothing written.
func TestCardsLeaseSystemOverHTTP(t *testing.T) {
	var broken atomic.Bool
	leases := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case broken.Load():
			http.Error(w, "maintenance", http.StatusBadGateway)
		case r.URL.Path == "/leases/L-2026-001":
			w.Write([]byte(`{"contract":"L-2026-001","customer_name":"株式会社 山田運輸","start":"2026-01-01","end":"2028-03-31","vehicles":["品川 300 あ 12-34"]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(leases.Close)
	e := newCardsEnv(t, func(cfg *app.Config) { cfg.Extra["GANTRY_LEASE_URL"] = leases.URL })

	if st, body := e.conclude("L-2026-001"); st != http.StatusCreated {
		t.Fatalf("conclude: %d %s", st, body)
	}
	if st, body := e.conclude("L-2026-404"); st != http.StatusUnprocessableEntity || !strings.Contains(string(body), "lease_not_found") {
		t.Fatalf("unknown lease: %d %s", st, body)
	}
	before := e.count(`SELECT count(*) FROM events`)
	broken.Store(true)
	st, body := e.conclude("L-2026-002")
	if st != http.StatusServiceUnavailable || !strings.Contains(string(body), "lease_system_unavailable") {
		t.Fatalf("lease system down: %d %s", st, body)
	}
	if after := e.count(`SELECT count(*) FROM events`); after != before {
		t.Fatalf("%d events written while the lease system was down", after-before)
	}
}
