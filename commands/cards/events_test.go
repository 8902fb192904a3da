package cards_test

import (
	"encoding/json"
	"strings"
	"testing"

	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain/billing"
)

// TestUpcastAdjustmentIssuedV1: a v1 adjustment (lines embedded) gets
// commitments to its removed and added lines; Hydrate then checks the
// embedded lines and reads nothing.
func TestUpcastAdjustmentIssuedV1(t *testing.T) {
	v1 := []byte(`{"invoice":"INV-202611-L-1","adjustment":"INV-202611-L-1-A1","kind":"debit","contract":"L-1","period":"2026-11","issued_on":"2026-12-10",
"removed":[],"added":[{"key":"toll:NEXCO-E:R7","kind":"toll","card":"","vehicle":"","operator":"NEXCO-E","record_id":"R7","usage_date":"2026-11-20","entry_ic":"東京","entry_at":"2026-11-20T03:00:00Z","exit_ic":"厚木","exit_at":"2026-11-20T03:40:00Z","amount":700,"tax_rate":0}],
"summary":{"tolls":700,"issue_fees":0,"annual_fees":0,"taxes":[],"rounding":"round_down","total":700}}`)
	up, err := cmdcards.UpcastAdjustmentIssuedV1(v1)
	if err != nil {
		t.Fatal(err)
	}
	var a billing.AdjustmentIssued
	if err := json.Unmarshal(up, &a); err != nil {
		t.Fatalf("%v: %s", err, up)
	}
	if a.AddedLines.Count != 1 || a.RemovedLines.Count != 0 || a.AddedLines.SHA256 == "" || len(a.AddedLines.Usage) != 1 || a.AddedLines.Usage[0].First != "R7" {
		t.Fatalf("commitments: %+v %+v", a.AddedLines, a.RemovedLines)
	}
	h, err := billing.Hydrate(a, func(billing.InvoiceNumber, billing.LinePart) ([]billing.Line, error) {
		t.Error("an upcast v1 event reads no line store")
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.(billing.AdjustmentIssued); len(got.Added) != 1 || got.Added[0].Amount != 700 {
		t.Fatalf("hydrated %+v", got.Added)
	}
	// The lines' canonical form puts times in Japan time, whatever zone
	// the v1 event wrote.
	if c := string(billing.CanonicalLine(a.Added[0])); !json.Valid([]byte(c)) || !strings.Contains(c, `"entry_at":"2026-11-20T12:00:00+09:00"`) {
		t.Fatalf("canonical %s", c)
	}
}
