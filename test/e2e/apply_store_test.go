package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestApplyRecordsTheQRStore: POST /v1/applications takes the store named
// by the QR link; an unknown store code is 422 on the store field with
// nothing written; a known one is recorded and the application awaits
// reception in that store's view (and not in another store's).
func TestApplyRecordsTheQRStore(t *testing.T) {
	e := start(t)
	s1 := e.staff("st-qr1", "S001", "store_staff")
	s2 := e.staff("st-qr2", "S002", "store_staff")

	body := func(store string) map[string]any {
		m := map[string]any{}
		for k, v := range applicant {
			m[k] = v
		}
		m["store"] = store
		return m
	}
	before := e.eventCount()
	r := e.must(422, e.do("POST", "/v1/applications", "", "", body("S999")))
	if !strings.Contains(string(r.body), "unknown_store") || !strings.Contains(string(r.body), `"store"`) {
		t.Fatalf("unknown store: %s", r.body)
	}
	if n := e.eventCount(); n != before {
		t.Fatalf("an unknown store wrote %d events", n-before)
	}
	id := e.must(201, e.do("POST", "/v1/applications", "", "", body("S001"))).json(t)["application_id"].(string)

	awaiting := func(token string) map[string]string {
		t.Helper()
		var rows []struct {
			ID    string `json:"application_id"`
			Store string `json:"applied_store"`
		}
		if err := json.Unmarshal(e.must(200, e.do("GET", "/v1/views/applications/awaiting", token, "", nil)).body, &rows); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.ID] = r.Store
		}
		return out
	}
	if got, ok := awaiting(s1)[id]; !ok || got != "S001" {
		t.Fatalf("S001's awaiting view: %q (listed %v)", got, ok)
	}
	if _, ok := awaiting(s2)[id]; ok {
		t.Fatal("another store sees an application that named S001")
	}
}
