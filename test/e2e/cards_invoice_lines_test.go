package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/cardsapi"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

// TestInvoiceCommitsToItsLines: a month of 5,000 passages on two cards is
// billed with every event under 64 KiB (gantry's store refuses bigger
// ones). invoice.issued holds the totals, the line count, the SHA-256 over
// the canonical lines and the usage ranges; the fee lines are in
// invoice_lines, the toll lines are rebuilt from the (immutable) usage
// records an invoice_usage reference names, and the hash of the whole is
// the event's. The invoice, its CSV and PDF still show every line; a late
// passage gives an adjustment that commits to its added line and does not
// join the issued invoice; the line store and the usage records refuse
// changes; an auditor's state as of now has the lines; a usage record
// changed behind the triggers makes the invoice an error, not a different
// invoice.
func TestInvoiceCommitsToItsLines(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	var c [2]projcards.CardRow
	for i, v := range []string{"品川 300 あ 12-34", "品川 300 あ 56-78"} {
		if st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": v, "card_type": "BLUE01"}, &c[i]); st != http.StatusCreated {
			t.Fatalf("issue %d: %d %s", i, st, body)
		}
	}
	const passages = 5000
	var b strings.Builder
	b.WriteString(usageHeader)
	for i := range passages {
		k := c[i%2]
		day := 1 + i%30
		at := time.Date(2026, 11, day, 6, 0, 0, 0, domain.Tokyo).Add(time.Duration(i/30) * time.Minute)
		fmt.Fprintf(&b, "U-%05d,NEXCO-E,%s,%s,東京,%s,厚木,%s,%d\n", i, k.Card, k.Vehicle,
			at.Format("2006-01-02 15:04:05"), at.Add(40*time.Minute).Format("2006-01-02 15:04:05"), 100+i%900)
	}
	if out, err := e.cli("usage", "import", e.file("usage-202611.csv", b.String())); err != nil || !strings.Contains(out, fmt.Sprintf(`"imported": %d`, passages)) {
		t.Fatalf("usage import: %v %.300s", err, out)
	}
	e.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo))
	if out, err := e.cli("billing", "run", "2026-11"); err != nil || !strings.Contains(out, `"action": "issued"`) {
		t.Fatalf("billing run: %v %s", err, out)
	}

	number := billing.InvoiceNumberFor(leaseNo(t), money.MustYearMonth(2026, 11))
	recs, err := e.a.Store.ReadStream(e.ctx, cmdcards.InvoiceStream(number), es.Forwards, 1, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("invoice stream: %d events, %v", len(recs), err)
	}
	if recs[0].SchemaVersion != 2 || len(recs[0].Data) > 4096 || strings.Contains(string(recs[0].Data), "toll:") {
		t.Fatalf("invoice.issued v%d holds %d bytes (want the commitment only): %.300s", recs[0].SchemaVersion, len(recs[0].Data), recs[0].Data)
	}
	var stored struct {
		Lines billing.Commitment `json:"lines"`
	}
	if err := json.Unmarshal(recs[0].Data, &stored); err != nil {
		t.Fatal(err)
	}
	wantLines := passages + 2 + 2 // tolls, two issue fees, two annual fees
	c0 := stored.Lines
	if c0.Count != wantLines || len(c0.Usage) != 1 || c0.Usage[0] != (billing.UsageRange{Operator: "NEXCO-E", First: "U-00000", Last: fmt.Sprintf("U-%05d", passages-1), Count: passages}) {
		t.Fatalf("commitment: %+v", c0)
	}
	store := cardsdb.InvoiceLines{Pool: e.a.Pool}
	if n, sum, err := store.Hash(e.ctx, number, billing.PartLines); err != nil || n != c0.Count || sum != c0.SHA256 {
		t.Fatalf("line store: %d lines, sha256 %s (%v); the event commits to %d, %s", n, sum, err, c0.Count, c0.SHA256)
	}
	// Only the four fee lines are rows; the 5,000 toll lines are one
	// reference to their usage records.
	if n, err := store.StoredLines(e.ctx, number, billing.PartLines); err != nil || n != 4 {
		t.Fatalf("stored lines: %d (%v), want the 4 fee lines", n, err)
	}
	var refCount int
	if err := e.a.Pool.QueryRow(e.ctx, `SELECT count FROM invoice_usage WHERE document = $1 AND part = 'lines'`, number.String()).Scan(&refCount); err != nil || refCount != passages {
		t.Fatalf("usage reference: %d (%v)", refCount, err)
	}

	var inv cardsapi.InvoiceResponse
	if st, body := e.do("GET", "/v1/invoices/"+number.String(), e.fin, nil, &inv); st != 200 || len(inv.Statement.Lines) != wantLines {
		t.Fatalf("invoice: %d, %d lines, %.200s", st, len(inv.Statement.Lines), body)
	}
	var tolls money.Yen
	for _, l := range inv.Statement.Lines {
		if l.Kind == billing.KindToll {
			tolls += l.Amount
		}
	}
	if tolls != inv.Statement.Summary.Tolls || tolls == 0 {
		t.Fatalf("lines add up to %s tolls, summary says %s", tolls, inv.Statement.Summary.Tolls)
	}
	if st, body := e.do("GET", "/v1/invoices/"+number.String()+"/csv", e.fin, nil, nil); st != 200 || strings.Count(string(body), "\n") != wantLines+2 || !strings.Contains(string(body), ",厚木,") {
		t.Fatalf("csv: %d, %d rows", st, strings.Count(string(body), "\n"))
	}
	if st, body := e.do("GET", "/v1/invoices/"+number.String()+"/pdf", e.fin, nil, nil); st != 200 || !strings.HasPrefix(string(body), "%PDF") {
		t.Fatalf("pdf: %d %.100s", st, body)
	}

	// A late passage: the adjustment commits to its one added line.
	late := usageHeader + "U-99999,NEXCO-E," + c[0].Card + "," + c[0].Vehicle + ",東京,2026-11-30 23:00:00,厚木,2026-11-30 23:40:00,700\n"
	if out, err := e.cli("usage", "import", e.file("late.csv", late)); err != nil || !strings.Contains(out, `"imported": 1`) {
		t.Fatalf("late import: %v %s", err, out)
	}
	if out, err := e.cli("billing", "run", "2026-11"); err != nil || !strings.Contains(out, `"action": "adjusted"`) {
		t.Fatalf("late run: %v %s", err, out)
	}
	adj := billing.InvoiceNumber{}
	if err := adj.UnmarshalText([]byte(number.String() + "-A1")); err != nil {
		t.Fatal(err)
	}
	if n, sum, err := store.Hash(e.ctx, adj, billing.PartAdded); err != nil || n != 1 || sum == "" {
		t.Fatalf("adjustment lines: %d %s %v", n, sum, err)
	}
	// The issued invoice's own lines are unchanged: the late record is not
	// in its snapshot.
	if n, sum, err := store.Hash(e.ctx, number, billing.PartLines); err != nil || n != c0.Count || sum != c0.SHA256 {
		t.Fatalf("issued lines after the late import: %d lines, sha256 %s (%v); the event commits to %d, %s", n, sum, err, c0.Count, c0.SHA256)
	}
	e.do("GET", "/v1/invoices/"+number.String(), e.fin, nil, &inv)
	if len(inv.Statement.Lines) != wantLines+1 || inv.Statement.Summary.Tolls != tolls+700 || inv.Adjustments != 1 {
		t.Fatalf("after adjustment: %d lines, tolls %s", len(inv.Statement.Lines), inv.Statement.Summary.Tolls)
	}
	// Running again changes nothing (the replay with hydrated lines
	// reconciles equal).
	if out, err := e.cli("billing", "run", "2026-11"); err != nil || !strings.Contains(out, `"action": "unchanged"`) {
		t.Fatalf("re-run: %v %s", err, out)
	}

	// Every event is under the limit.
	var biggest int
	if err := e.a.Pool.QueryRow(e.ctx, `SELECT max(octet_length(data::text)) FROM events`).Scan(&biggest); err != nil || biggest >= es.MaxEventSize {
		t.Fatalf("largest event %d bytes (%v), limit %d", biggest, err, es.MaxEventSize)
	}

	// The line store, its usage references and the usage records are
	// append-only.
	for _, q := range []string{`UPDATE invoice_lines SET line = '{}' WHERE seq = 1`, `DELETE FROM invoice_lines`, `TRUNCATE invoice_lines`,
		`UPDATE invoice_usage SET count = count + 1`, `DELETE FROM invoice_usage`, `TRUNCATE invoice_usage`,
		`UPDATE usage_records SET toll = toll + 1 WHERE record_id = 'U-00007'`, `DELETE FROM usage_records WHERE record_id = 'U-00007'`, `TRUNCATE usage_records`} {
		if _, err := e.a.Pool.Exec(e.ctx, q); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// An auditor replays the invoice with its lines.
	aud := e.a.API.Tokens().Issue(api.Principal{Role: api.RoleAuditor, Subject: "aud-1"})
	var sv struct {
		State billing.InvoiceSnapshot `json:"state"`
	}
	if st, body := e.do("GET", "/v1/audit/streams/"+cmdcards.InvoiceStream(number)+"/state?reason=e2e", aud, nil, &sv); st != 200 || len(sv.State.Effective.Lines) != wantLines+1 {
		t.Fatalf("audit state: %d, %d lines, %.300s", st, len(sv.State.Effective.Lines), body)
	}

	// A toll changed behind the triggers (by the database's owner) no
	// longer matches the commitment: the invoice is refused, not shown
	// with the new amount.
	if _, err := e.a.Pool.Exec(e.ctx, `ALTER TABLE usage_records DISABLE TRIGGER usage_records_no_update;
		UPDATE usage_records SET toll = toll + 1 WHERE record_id = 'U-00007';
		ALTER TABLE usage_records ENABLE TRIGGER usage_records_no_update`); err != nil {
		t.Fatal(err)
	}
	if n, sum, err := store.Hash(e.ctx, number, billing.PartLines); err != nil || n != c0.Count || sum == c0.SHA256 {
		t.Fatalf("tampered record: %d lines, sha256 %s (%v), still the commitment's", n, sum, err)
	}
	if st, body := e.do("GET", "/v1/invoices/"+number.String(), e.fin, nil, nil); st == 200 || strings.Contains(string(body), ",厚木,") {
		t.Fatalf("invoice over a tampered usage record: %d %.200s", st, body)
	}
}

// TestInvoiceIssuedV1StillReplays: an invoice.issued and an adjustment
// stored in schema v1 (lines embedded, as before issue 13) are upcast: the
// invoice shows its lines, and a billing run reconciles against them with
// an adjustment in the new form (lines in the line store).
func TestInvoiceIssuedV1StillReplays(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	oct := money.MustYearMonth(2026, 10)
	n := billing.InvoiceNumberFor(leaseNo(t), oct)
	cardNo, err := card.NewCardNumber("91234", 17)
	if err != nil {
		t.Fatal(err)
	}
	vehicle, _ := contract.ParseVehicleNumber("品川 300 あ 12-34")
	at := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)
	lines := []billing.Line{
		{Key: "issue_fee:" + cardNo.String(), Kind: billing.KindIssueFee, Card: cardNo, Vehicle: vehicle, Reason: card.ReasonNew, Amount: 500, TaxRate: 10},
		{Key: "toll:NEXCO-E:OLD-1", Kind: billing.KindToll, Card: cardNo, Vehicle: vehicle, Operator: "NEXCO-E", RecordID: "OLD-1",
			UsageDate: domain.DateOf(at), EntryIC: "東京", EntryAt: at, ExitIC: "厚木", ExitAt: at.Add(time.Hour), Amount: 1200},
	}
	st := billing.Statement{Contract: leaseNo(t), Recipient: "株式会社 山田運輸", Period: oct, Lines: lines, Summary: billing.Summarize(lines)}
	st.Issuer.Name = "Gantry Leasing K.K."
	// The v1 shape: the statement with its lines, no commitment.
	v1, err := json.Marshal(map[string]any{"invoice": n, "issued_on": "2026-11-01", "statement": st})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v1), `"toll:NEXCO-E:OLD-1"`) {
		t.Fatalf("v1 fixture lacks its lines: %s", v1)
	}
	if _, err := e.a.Store.Append(e.ctx, cmdcards.InvoiceStream(n), es.NoStream, es.Metadata{Actor: es.Actor{Role: "system", ID: "legacy"}},
		es.EventData{ID: es.NewEventID(), Type: billing.EventInvoiceIssued, SchemaVersion: 1, Data: v1}); err != nil {
		t.Fatal(err)
	}

	var inv cardsapi.InvoiceResponse
	if code, body := e.do("GET", "/v1/invoices/"+n.String(), e.fin, nil, &inv); code != 200 || len(inv.Statement.Lines) != 2 || inv.Statement.Lines[1].RecordID != "OLD-1" || inv.Statement.Summary.Total != 1750 {
		t.Fatalf("v1 invoice: %d %.400s", code, body)
	}
	// October has nothing to bill now: the run withdraws both old lines.
	e.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo))
	var outcomes []cmdcards.BillingOutcome
	if code, body := e.do("POST", "/v1/billing-runs", e.fin, map[string]string{"month": "2026-10"}, &outcomes); code != 200 || len(outcomes) != 1 || outcomes[0].Action != "adjusted" || outcomes[0].Total != 0 {
		t.Fatalf("run over a v1 invoice: %d %s", code, body)
	}
	adj, _ := billing.ParseInvoiceNumber(n.String() + "-A1")
	if cnt, _, err := (cardsdb.InvoiceLines{Pool: e.a.Pool}).Hash(e.ctx, adj, billing.PartRemoved); err != nil || cnt != 2 {
		t.Fatalf("removed lines in the store: %d %v", cnt, err)
	}
	if code, body := e.do("GET", "/v1/invoices/"+n.String(), e.fin, nil, &inv); code != 200 || len(inv.Statement.Lines) != 0 || inv.Statement.Summary.Total != 0 || inv.Adjustments != 1 {
		t.Fatalf("after the credit: %d %.400s", code, body)
	}
}

func leaseNo(t *testing.T) contract.Number {
	n, err := contract.ParseNumber("L-2026-001")
	if err != nil {
		t.Fatal(err)
	}
	return n
}
