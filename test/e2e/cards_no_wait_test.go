package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/api"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

// TestCardCommandsAnswerDuringHeldTransaction: with a transaction held open
// on another connection (so no view can see new events), concluding a
// contract, issuing a card and reissuing it still answer 201 with the
// contract or card, from the commands' own events. A read that asks for the
// views (?after=) is refused meanwhile (views_behind): the answers did not
// come from them. After the hold, the views show exactly what was answered.
func TestCardCommandsAnswerDuringHeldTransaction(t *testing.T) {
	e := newCardsEnv(t)
	if out, err := e.cli("lease", "import", e.file("leases.csv", leaseCSV)); err != nil {
		t.Fatalf("lease import: %v %s", err, out)
	}
	ctx := context.Background()
	hold, err := pgx.Connect(ctx, e.a.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close(ctx)
	tx, err := hold.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT txid_current()`); err != nil {
		t.Fatal(err)
	}

	post := func(path string, body any, out any) string {
		t.Helper()
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.admin)
		// Generous: this asserts that it answers, not how fast; a command
		// that waited for the views would wait for the hold.
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			t.Fatalf("POST %s during the hold: %v", path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s during the hold: %d %s", path, resp.StatusCode, data)
		}
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
		pos := resp.Header.Get(api.HeaderPosition)
		if pos == "" {
			t.Fatalf("POST %s: no %s", path, api.HeaderPosition)
		}
		return pos
	}
	var k projcards.ContractRow
	post("/v1/contracts", map[string]any{
		"contract": "L-2026-001", "customer_name": "株式会社　山田運輸", "alpha_name": "Yamada Unyu Co., Ltd.",
		"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ヤマダウンユ",
	}, &k)
	if k.Contract != "L-2026-001" || !strings.Contains(k.CustomerName, "山田運輸") || k.ConcludedOn != "2026-11-02" || k.LeaseEnd != "2028-03-31" {
		t.Fatalf("contract answered: %+v", k)
	}
	var issued, reissued projcards.CardRow
	issuedAt := post("/v1/cards", map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, &issued)
	if issued.Card == "" || issued.State != "in_use" || issued.Vehicle != "品川 300 あ 12-34" || issued.Reason != "new" || issued.Expiry != "2028-03" || issued.Version != 1 {
		t.Fatalf("card answered: %+v", issued)
	}
	reissuedAt := post("/v1/cards/"+issued.Card+"/reissue", map[string]string{"reason": "lost"}, &reissued)
	if reissued.Card == issued.Card || reissued.Previous != issued.Card || reissued.State != "in_use" || reissued.Reason != "lost" {
		t.Fatalf("reissue answered: %+v", reissued)
	}
	// The views are held back: a read that needs them is refused.
	if st, body := e.do("GET", "/v1/cards/"+issued.Card+"?after="+issuedAt, e.admin, nil, nil); st != http.StatusServiceUnavailable {
		t.Fatalf("read during the hold: %d %s, want 503 views_behind", st, body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var view projcards.CardRow
	if st, body := e.do("GET", "/v1/cards/"+reissued.Card+"?after="+reissuedAt, e.admin, nil, &view); st != http.StatusOK {
		t.Fatalf("read after the hold: %d %s", st, body)
	}
	if a, b := mustJSON(t, view), mustJSON(t, reissued); a != b {
		t.Fatalf("view %s, answered %s", a, b)
	}
	var contracts projcards.ContractRow
	if st, body := e.do("GET", "/v1/contracts/L-2026-001", e.admin, nil, &contracts); st != http.StatusOK || mustJSON(t, contracts) != mustJSON(t, k) {
		t.Fatalf("contract view %d %s, answered %+v", st, body, k)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
