package postgres

import (
	"bytes"
	"encoding/json"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// TestMetadataJSONIsJSONMarshal: the stored metadata bytes (part of the hash
// chain's canonical bytes) are exactly what json.Marshal writes.
func TestMetadataJSONIsJSONMarshal(t *testing.T) {
	for _, md := range []es.Metadata{
		{},
		{CorrelationID: "c1"},
		{CommandID: "0190a5e0-0000-7000-8000-000000000001@card-1", Actor: es.Actor{Role: "staff", ID: "s-1", Store: "st-9", Device: "tab-3"}},
		{CorrelationID: "c", CausationID: "d", Actor: es.Actor{Device: "pc"}},
		{Actor: es.Actor{Role: "system", ID: "scheduler"}},
		{CorrelationID: `quote"back\slash`, Actor: es.Actor{ID: "<&>"}},
		{CausationID: "tab\there", Actor: es.Actor{Store: "店舗", Device: "\u2028"}},
		{CommandID: "bad\xffutf8"},
	} {
		want, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		got, err := metadataJSON(md)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("metadataJSON(%+v) = %s, json.Marshal = %s", md, got, want)
		}
	}
}
