package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
)

// A corporate card customer (issue 10): the cards view keeps the
// customer's names and the plates only sealed under the contract's key, and
// the contract's contact and bank account are sealed in its events. After
// the contract's key is destroyed the API reads them as erased, the privacy
// report says so, none of the sealed strings is anywhere at rest (dump,
// relation files, WAL since the contract was made), and the cards view's
// files hold neither the names nor the plate. The corporate name and the
// plates stay plain in the card and invoice events, by the domain's design
// (printed on cards and on invoices kept seven years); the report says
// that too.
func TestErasureScan_card_contract(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	m := e.markWAL()
	const (
		lease    = "L-ERASE-77"
		customer = "株式会社霧ヶ峰ZQ運送"
		alpha    = "KIRIGAMINE ZQ UNSO"
		plate    = "松本 300 さ 73-19"
	)
	sealed := []string{"長野県諏訪市霧ヶ峰ZQ7-3-1", "0266-77-3191", "霧ヶ峰ZQ太郎", "キリガミネゼツトキユ"}
	leases := filepath.Join(t.TempDir(), "leases.csv")
	if err := os.WriteFile(leases, []byte("contract,customer_name,start,end,vehicles\n"+lease+","+customer+",2026-01-01,2028-03-31,"+plate+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.CardsCLI(ctx, e.a, []string{"lease", "import", leases}, &out); err != nil {
		t.Fatalf("lease import: %v %s", err, out.String())
	}
	admin := e.staff("ops-9", "", "operator_admin")
	fin := e.staff("fin-9", "", "finance")
	e.must(201, e.do("POST", "/v1/contracts", admin, "", map[string]any{
		"contract": lease, "customer_name": customer, "alpha_name": alpha,
		"address": sealed[0], "phone": sealed[1], "representative": sealed[2],
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "7319731", "holder_kana": sealed[3]}))
	issued := e.must(201, e.do("POST", "/v1/cards", admin, "", map[string]string{"contract": lease, "vehicle": plate, "card_type": "BLUE01"})).json(t)

	// Readable while the key lives, the plate found through the claim stream.
	got := e.must(200, e.do("GET", "/v1/contracts/"+lease, fin, "", nil)).json(t)
	if got["customer_name"] != customer || got["alpha_name"] != alpha {
		t.Fatalf("contract before the erasure: %v", got)
	}
	byPlate := e.must(200, e.do("GET", "/v1/cards?vehicle="+url.QueryEscape(plate), fin, "", nil)).list(t)
	if len(byPlate) != 1 || byPlate[0]["vehicle"] != plate || byPlate[0]["card"] != issued["card"] {
		t.Fatalf("cards of the vehicle before the erasure: %v (issued %v)", byPlate, issued)
	}
	// One card by number: one query with its contract's key; the key
	// unwrapped here is remembered by its wrapped bytes (es.Sealer.Ring).
	for range 2 {
		if one := e.must(200, e.do("GET", "/v1/cards/"+issued["card"].(string), fin, "", nil)).json(t); one["vehicle"] != plate || one["erased"] != nil {
			t.Fatalf("the card before the erasure: %v", one)
		}
	}
	before := e.privacyReport(lease)
	for _, where := range []string{"proj_cards.contracts (contract)", "proj_cards.cards (contract)"} {
		p, ok := before.place(where)
		if !ok || p.Erased || !strings.Contains(p.Personal, "sealed") {
			t.Fatalf("the report before the erasure on %s: %+v", where, before.Places)
		}
	}
	if !before.has("stream", "contract-"+lease) || !before.has("stream", "card-") || !before.has("stream", "vehicle-") {
		t.Fatalf("the report misses the contract's, card's or vehicle's stream: %+v", before.Places)
	}

	// Erasure is the destruction of the contract's key.
	if err := e.a.Sealer.Shred(ctx, lease); err != nil {
		t.Fatal(err)
	}
	got = e.must(200, e.do("GET", "/v1/contracts/"+lease, fin, "", nil)).json(t)
	if got["customer_name"] != "" || got["erased"] != true {
		t.Fatalf("contract after the erasure: %v", got)
	}
	cards := e.must(200, e.do("GET", "/v1/cards?contract="+lease, fin, "", nil)).list(t)
	if len(cards) != 1 || cards[0]["vehicle"] != "" || cards[0]["erased"] != true {
		t.Fatalf("cards after the erasure: %v", cards)
	}
	// The key unwrapped for the earlier reads does not serve after the shred.
	if one := e.must(200, e.do("GET", "/v1/cards/"+issued["card"].(string), fin, "", nil)).json(t); one["vehicle"] != "" || one["erased"] != true || one["card"] != issued["card"] {
		t.Fatalf("the card after the erasure: %v", one)
	}
	after := e.privacyReport(lease)
	for _, p := range after.Places {
		plainByDesign := p.Kind == "stream" && (strings.HasPrefix(p.Where, "card-") || strings.HasPrefix(p.Where, "vehicle-")) ||
			p.Where == "proj_invoices.documents (contract)"
		if p.Erased == plainByDesign {
			t.Fatalf("after the erasure %s: erased %v, personal %q", p.Where, p.Erased, p.Personal)
		}
	}
	js, _ := json.Marshal(after)
	for _, s := range append(sealed, customer, plate) {
		if bytes.Contains(js, []byte(s)) {
			t.Fatalf("the report itself holds %q", s)
		}
	}

	// The sealed strings are nowhere; the view's files hold no name or plate.
	findings := e.scan(m, append(sealed, customer, alpha, plate))
	// The control: the plain-by-design corporate name is found (in the
	// events), so a clean view means something.
	if !slices.ContainsFunc(findings, func(f string) bool { return strings.HasPrefix(f, `"`+customer+`" is in the pg_dump`) }) {
		t.Fatalf("the scan did not find the corporate name in the card events: %v", findings)
	}
	for _, f := range findings {
		inView := strings.Contains(f, "relation contracts") || strings.Contains(f, "relation cards")
		if inView || !strings.HasPrefix(f, `"`+customer+`"`) && !strings.HasPrefix(f, `"`+alpha+`"`) && !strings.HasPrefix(f, `"`+plate+`"`) {
			t.Error(f)
		}
	}
}

// A consent PDF stored in plaintext before sealing existed (migration
// 06000) is sealed when `gantry serve` starts, without waiting for an
// operator to run `gantry privacy seal-legacy`.
func TestLegacyConsentPDFSealedAtStart(t *testing.T) {
	first := start(t)
	ctx := context.Background()
	if _, err := first.a.Pool.Exec(ctx, `INSERT INTO setup_consent_documents (consent_id, sha256, pdf) VALUES ('CN-OLD', 'sha256:old', '%PDF legacy ZZ旧平文ZZ')`); err != nil {
		t.Fatal(err)
	}
	url := first.a.Pool.Config().ConnString()
	second := startWith(t, first.inbox, func(cfg *app.Config) { cfg.DatabaseURL = url })
	var sealed bool
	var pdf []byte
	if err := second.a.Pool.QueryRow(ctx, `SELECT sealed, pdf FROM setup_consent_documents WHERE consent_id = 'CN-OLD'`).Scan(&sealed, &pdf); err != nil {
		t.Fatal(err)
	}
	if !sealed || bytes.Contains(pdf, []byte("ZZ旧平文ZZ")) {
		t.Fatalf("after a start: sealed %v, plaintext %v", sealed, bytes.Contains(pdf, []byte("ZZ旧平文ZZ")))
	}
}
