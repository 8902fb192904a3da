package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// A card issue retried with its Idempotency-Key answers the first card and
// issues nothing more (the number is allocated by the command ID).
func TestKeyedCardIssueRetryAnswersTheFirstCard(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	issue := func(key string) (int, map[string]any, string) {
		b, _ := json.Marshal(map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"})
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/cards", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("Idempotency-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return res.StatusCode, m, res.Header.Get("Idempotent-Replayed")
	}
	st1, first, _ := issue("card-issue-1")
	st2, again, replayed := issue("card-issue-1")
	if st1 != 201 || st2 != 201 || first["card"] != again["card"] || replayed != "true" {
		t.Fatalf("issue %d %v, retry %d %v (replayed %q)", st1, first, st2, again, replayed)
	}
	if n := e.count(`SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'card-%'`); n != 1 {
		t.Fatalf("%d card streams after an issue and its retry", n)
	}
	// Without the key, the vehicle has its card.
	if st, _, _ := issue("card-issue-2"); st != 409 {
		t.Fatalf("a second issue for the vehicle: %d", st)
	}
}
