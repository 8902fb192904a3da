package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/api/cardsapi"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

const usageHeader = "record_id,operator,card_number,vehicle,entry_ic,entry_at,exit_ic,exit_at,toll\n"

// TestCardsEndToEnd: contract → 3 cards → a month of usage (one passage by
// another vehicle, one on a Sunday, one on a national holiday) → billing run
// → invoice totals and both reports as computed by hand; re-run changes
// nothing; late usage gives an adjustment; the printer file has each card
// once after re-delivery.
func TestCardsEndToEnd(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()

	var c [3]projcards.CardRow
	for i, v := range []string{"品川 300 あ 12-34", "品川 300 あ 56-78", "品川 300 い 90-12"} {
		st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": v, "card_type": "BLUE01"}, &c[i])
		if st != http.StatusCreated {
			t.Fatalf("issue %d: %d %s", i, st, body)
		}
		if c[i].State != "in_use" || c[i].Expiry != "2028-03" || c[i].Reason != "new" || c[i].IssuedOn != "2026-11-02" {
			t.Fatalf("card %d: %+v", i, c[i])
		}
	}

	// November 2026: 11-03 is 文化の日 (Tuesday), 11-08 is a Sunday.
	usage := usageHeader +
		"R-1,NEXCO-E," + c[0].Card + ",品川 300 あ 12-34,東京,2026-11-04 08:10:00,厚木,2026-11-04 08:55:00,1000\n" +
		"R-2,NEXCO-E," + c[0].Card + ",品川 300 あ 12-34,厚木,2026-11-05 17:00:00,東京,2026-11-05 17:50:00,2500\n" +
		"R-3,NEXCO-C," + c[1].Card + ",品川 300 あ 56-78,名古屋,2026-11-08 09:00:00,豊田,2026-11-08 09:40:00,1320\n" +
		"R-4,NEXCO-C," + c[2].Card + ",品川 300 え 99-99,豊田,2026-11-10 10:00:00,岡崎,2026-11-10 10:20:00,880\n" +
		"R-5,NEXCO-E," + c[1].Card + ",品川 300 あ 56-78,東京,2026-11-03 07:00:00,横浜,2026-11-03 07:30:00,600\n" +
		"R-6,NEXCO-E,9999999999999995,品川 300 お 00-00,東京,2026-11-06 07:00:00,横浜,2026-11-06 07:30:00,999\n"
	out, err := e.cli("usage", "import", e.file("usage-202611.csv", usage))
	if err != nil {
		t.Fatalf("usage import: %v %s", err, out)
	}
	if !strings.Contains(out, `"imported": 5`) || !strings.Contains(out, `"9999999999999995"`) {
		t.Fatalf("usage import result: %s", out)
	}
	// Same file again (HTTP): nothing new.
	var again cmdcards.UsageImportResult
	if st, body := e.do("POST", "/v1/usage-files", e.fin, []byte(usage), &again); st != 200 || !again.Duplicate {
		t.Fatalf("re-import: %d %s", st, body)
	}
	if n := e.count(`SELECT count(*) FROM usage_records`); n != 5 {
		t.Fatalf("usage records = %d, want 5", n)
	}

	// Billing by hand, 2026-11:
	//   tolls (立替金, not taxed): 1000 + 2500 + 1320 + 880 + 600 = 6300
	//   issue fees: 3 new cards × 500                              = 1500
	//   annual fees: first-issue month, 3 chains × 1000            = 3000
	//   tax 10% once on 1500 + 3000 = 4500 → 450 (rounded down)
	//   total: 6300 + 4500 + 450                                   = 11250
	e.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo))
	out, err = e.cli("billing", "run", "2026-11")
	if err != nil || !strings.Contains(out, `"action": "issued"`) {
		t.Fatalf("billing run: %v %s", err, out)
	}
	var inv cardsapi.InvoiceResponse
	if st, body := e.do("GET", "/v1/invoices/INV-202611-L-2026-001", e.fin, nil, &inv); st != 200 {
		t.Fatalf("invoice: %d %s", st, body)
	}
	s := inv.Statement.Summary
	if s.Tolls != 6300 || s.IssueFees != 1500 || s.AnnualFees != 3000 || len(s.Taxes) != 1 || s.Taxes[0].Base != 4500 || s.Taxes[0].Tax != 450 || s.Total != 11250 {
		t.Fatalf("summary: %+v", s)
	}
	if inv.Statement.Issuer.RegistrationNumber.String() != app.DefaultIssuerRegistration || inv.Statement.Recipient != "株式会社 山田運輸" {
		t.Fatalf("header: %+v", inv.Statement.Issuer)
	}

	// Running the month again changes nothing.
	var outcomes []cmdcards.BillingOutcome
	if st, body := e.do("POST", "/v1/billing-runs", e.fin, map[string]string{"month": "2026-11"}, &outcomes); st != 200 || outcomes[0].Action != "unchanged" {
		t.Fatalf("re-run: %d %s", st, body)
	}
	if n := e.count(`SELECT count(*) FROM proj_invoices.documents`); n != 1 {
		t.Fatalf("documents = %d", n)
	}

	// Reports.
	var nbd []cardsapi.ReportLine
	e.do("GET", "/v1/reports/L-2026-001/2026-11/non-business-day-usage", e.fin, nil, &nbd)
	if len(nbd) != 2 || nbd[0].RecordID != "R-5" || nbd[1].RecordID != "R-3" {
		t.Fatalf("non-business-day report: %+v", nbd)
	}
	var ov []cardsapi.ReportLine
	e.do("GET", "/v1/reports/L-2026-001/2026-11/other-vehicle-usage", e.fin, nil, &ov)
	if len(ov) != 1 || ov[0].RecordID != "R-4" || ov[0].Vehicle != "品川 300 え 99-99" || ov[0].CardVehicle != "品川 300 い 90-12" {
		t.Fatalf("other-vehicle report: %+v", ov)
	}
	if st, body := e.do("GET", "/v1/reports/L-2026-001/2026-11/other-vehicle-usage?format=csv", e.fin, nil, nil); st != 200 || !strings.Contains(string(body), "R-4") {
		t.Fatalf("csv report: %d %s", st, body)
	}

	// Late correction: a passage of 2026-11-20 arrives in December, in a
	// file that repeats R-1 (imported before: skipped, counted once).
	late := usageHeader + "R-7,NEXCO-E," + c[0].Card + ",品川 300 あ 12-34,東京,2026-11-20 12:00:00,厚木,2026-11-20 12:40:00,700\n" +
		"R-1,NEXCO-E," + c[0].Card + ",品川 300 あ 12-34,東京,2026-11-04 08:10:00,厚木,2026-11-04 08:55:00,1000\n"
	if out, err := e.cli("usage", "import", e.file("late.csv", late)); err != nil || !strings.Contains(out, `"imported": 1`) || !strings.Contains(out, `"already_known": 1`) {
		t.Fatalf("late import: %v %s", err, out)
	}
	if st, body := e.do("POST", "/v1/billing-runs", e.fin, map[string]string{"month": "2026-11"}, &outcomes); st != 200 || outcomes[0].Action != "adjusted" || outcomes[0].Adjustment != "INV-202611-L-2026-001-A1" {
		t.Fatalf("late run: %d %s", st, body)
	}
	// 11250 + 700 (toll, not taxed) = 11950; the adjustment is +700.
	e.do("GET", "/v1/invoices/INV-202611-L-2026-001", e.fin, nil, &inv)
	if inv.Statement.Summary.Total != 11950 || inv.Adjustments != 1 {
		t.Fatalf("after adjustment: %+v", inv.Statement.Summary)
	}
	var docs []projcards.DocumentRow
	e.do("GET", "/v1/invoices?customer=山田&issued_from=2026-12-01&issued_to=2026-12-31&min_total=500", e.fin, nil, &docs)
	if len(docs) != 2 || docs[0].Total != 11250 || docs[1].Kind != string(billing.AdjustmentDebit) || docs[1].Total != 700 || docs[1].Invoice != "INV-202611-L-2026-001" {
		t.Fatalf("search: %+v", docs)
	}
	e.do("GET", "/v1/invoices?min_total=1000&max_total=20000", e.fin, nil, &docs)
	if len(docs) != 1 {
		t.Fatalf("amount range: %+v", docs)
	}
	var totals []projcards.MonthTotal
	e.do("GET", "/v1/billing-totals?period=2026-11", e.fin, nil, &totals)
	if len(totals) != 1 || totals[0].Total != 11950 || totals[0].Invoices != 1 || totals[0].Adjustments != 1 {
		t.Fatalf("totals: %+v", totals)
	}
	checkBillingListsPage(t, e)
	if st, body := e.do("GET", "/v1/invoices/INV-202611-L-2026-001/pdf", e.fin, nil, nil); st != 200 || !strings.HasPrefix(string(body), "%PDF") {
		t.Fatalf("pdf: %d %.100s", st, body)
	}
	if st, body := e.do("GET", "/v1/invoices/INV-202611-L-2026-001/csv", e.fin, nil, nil); st != 200 || !strings.Contains(string(body), "R-7") && !strings.Contains(string(body), "11950") {
		t.Fatalf("csv: %d %s", st, body)
	}

	// Printer EDI: all three cards in the file of 2026-11-02, once each,
	// also after the printer projector gets the same event again.
	path := filepath.Join(e.a.Config.EDIDir, edi.PrinterFileName(domain.Date{Year: 2026, Month: 11, Day: 2}))
	waitLines := func() string {
		for i := 0; i < 400; i++ {
			b, _ := os.ReadFile(path)
			if strings.Count(string(b), "\n") >= 3 {
				return string(b)
			}
			time.Sleep(25 * time.Millisecond)
		}
		ents, _ := os.ReadDir(e.a.Config.EDIDir)
		n := e.count(`SELECT count(*) FROM printer_edi`)
		t.Fatalf("printer file %s not complete: %v rows=%d", path, ents, n)
		return ""
	}
	first := waitLines()
	recs, err := e.a.Store.ReadStream(e.ctx, cmdcards.CardStream(mustCard(t, c[0].Card)), es.Forwards, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.a.Codec.DecodeAll(e.ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, p := range e.a.Cards().Projectors() {
		if p.Name() == app.PrinterEDIProjector {
			for i := 0; i < 2; i++ {
				if err := pgx.BeginFunc(e.ctx, e.a.Pool, func(tx pgx.Tx) error { return p.Apply(e.ctx, tx, evs[:1]) }); err != nil {
					t.Fatal(err)
				}
				applied++
			}
		}
	}
	if applied != 2 {
		t.Fatalf("no projector %s", app.PrinterEDIProjector)
	}
	if n, err := e.a.Cards().Printer.Flush(e.ctx); err != nil || n != 0 {
		t.Fatalf("flush after the event again: %d cards written (%v)", n, err)
	}
	second, _ := os.ReadFile(path)
	if string(second) != first {
		t.Fatalf("re-delivery changed the file:\n%s\n---\n%s", first, second)
	}
	for _, x := range c {
		if n := strings.Count(first, x.Card); n != 1 {
			t.Fatalf("card %s appears %d times:\n%s", x.Card, n, first)
		}
	}
	if !strings.Contains(first, "\"YAMADA UNYU CO., LTD.\",品川 300 あ 12-34,BLUE01,"+c[0].Card+",2028/03\n") {
		t.Fatalf("printer line layout:\n%s", first)
	}
}

func mustCard(t *testing.T, s string) card.CardNumber {
	n, err := card.ParseCardNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCardsBadInput: each refusal is a clear problem+json and writes nothing.
func TestCardsBadInput(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	var c projcards.CardRow
	if st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, &c); st != 201 {
		t.Fatalf("issue: %d %s", st, body)
	}
	events := func() int { return e.count(`SELECT count(*) FROM events`) }
	before, cardsBefore := events(), e.count(`SELECT count(*) FROM card_number_allocations`)+e.count(`SELECT count(*) FROM events WHERE stream_id LIKE 'vehicle-%'`)

	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"second_in_use_card_for_vehicle", "/v1/cards", map[string]string{"contract": "L-2026-001", "vehicle": "品川300あ12-34", "card_type": "RED"}, 409, "card_in_use"},
		{"vehicle_not_on_lease", "/v1/cards", map[string]string{"contract": "L-2026-001", "vehicle": "横浜 500 さ 77-77", "card_type": "RED"}, 422, "vehicle_not_leased"},
		{"unknown_reissue_reason", "/v1/cards/" + c.Card + "/reissue", map[string]string{"reason": "stolen"}, 422, "unknown_reissue_reason"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.do("POST", tc.path, e.admin, tc.body, nil)
			p := decodeProblem(t, body)
			if st != tc.status || p.Code != tc.code {
				t.Fatalf("%d %s", st, body)
			}
		})
	}

	usageBefore := e.count(`SELECT count(*) FROM usage_records`)
	malformed := usageHeader +
		"R-1,NEXCO-E," + c.Card + ",品川 300 あ 12-34,東京,2026-11-04 08:10:00,厚木,2026-11-04 08:55:00,1000\n" +
		"R-2,NEXCO-E," + c.Card + ",品川 300 あ 12-34,東京,2026/11/04 8時,厚木,2026-11-04 08:55:00,abc\n" +
		"R-3,NEXCO-E,1234567890123456,品川 300 あ 12-34,東京,2026-11-04 08:10:00,厚木,2026-11-04 08:55:00,10\n"
	st, body := e.do("POST", "/v1/usage-files", e.fin, []byte(malformed), nil)
	p := decodeProblem(t, body)
	if st != 422 || p.Code != "invalid_usage_file" || len(p.Errors) != 3 ||
		p.Errors[0].Line != 3 || p.Errors[0].Field != "entry_at" || p.Errors[1].Field != "toll" || p.Errors[2].Line != 4 || p.Errors[2].Field != "card_number" {
		t.Fatalf("malformed: %d %s", st, body)
	}
	misencoded := []byte(usageHeader + "R-9,NEXCO-E," + c.Card + ",品川 300 あ 12-34,\xff\xfe,2026-11-04 08:10:00,厚木,2026-11-04 08:55:00,1000\n")
	st, body = e.do("POST", "/v1/usage-files", e.fin, misencoded, nil)
	p = decodeProblem(t, body)
	if st != 422 || len(p.Errors) == 0 || p.Errors[0].Line != 2 || p.Errors[0].Field != "encoding" {
		t.Fatalf("mis-encoded: %d %s", st, body)
	}
	if _, err := e.cli("usage", "import", e.file("bad.csv", malformed)); err == nil {
		t.Fatal("CLI accepted a malformed file")
	}
	if got := e.count(`SELECT count(*) FROM usage_records`); got != usageBefore {
		t.Fatalf("usage records %d → %d", usageBefore, got)
	}
	if got := events(); got != before {
		t.Fatalf("events %d → %d", before, got)
	}
	if got := e.count(`SELECT count(*) FROM card_number_allocations`) + e.count(`SELECT count(*) FROM events WHERE stream_id LIKE 'vehicle-%'`); got != cardsBefore {
		t.Fatalf("cards %d → %d", cardsBefore, got)
	}
	// Role check: finance may not issue cards.
	if st, _ := e.do("POST", "/v1/cards", e.fin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 56-78", "card_type": "RED"}, nil); st != 403 {
		t.Fatalf("finance issued a card: %d", st)
	}
	_ = fmt.Sprint
}
