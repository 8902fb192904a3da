package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// noReads is a key table that refuses every read: what decodes with it
// read no key.
type noReads struct{ memKeys }

func (noReads) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("a key was read")
}

func (noReads) GetMany(context.Context, []string) (map[string][]byte, error) {
	return nil, errors.New("keys were read")
}

// A reader that uses no personal data gets every Personal value zero
// (withheld: no subject, no value, not erased) and everything else as
// stored, with no key read and no plaintext anywhere, shredded or not.
func TestDecodeAllWithheldOpensNothing(t *testing.T) {
	ctx := context.Background()
	keys := memKeys{}
	kek := bytes.Repeat([]byte{7}, 32)
	s, _ := es.NewSealer(kek, keys)
	reg := es.NewRegistry()
	es.Register[application.Completed](reg, 2)
	codec := es.NewCodec(reg, s)
	id, _ := application.ParseID("AP-7K3M9Q2X")
	at := time.Date(2026, 4, 1, 10, 0, 0, 0, domain.Tokyo)
	ev := application.Completed{ApplicationID: id, Units: 2, PasscodeHash: "h", CompletedAt: at, StoreID: "S001",
		Details: domain.Seal(id.String(), application.Details{Applicant: application.Applicant{Name: "山田太郎", Email: "taro@example.jp"}, VehicleUser: "山田花子"})}
	data, err := codec.Encode(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range data[0].Keys {
		_, _ = keys.Put(ctx, k.Subject, k.Wrapped)
	}
	rec := es.RecordedEvent{StreamID: "application-" + id.String(), Version: 1, Type: data[0].Type, SchemaVersion: data[0].SchemaVersion, Data: data[0].Data}

	opened, err := codec.DecodeAll(ctx, []es.RecordedEvent{rec})
	if err != nil || opened[0].Payload.(application.Completed).Details.Value.Applicant.Name != "山田太郎" {
		t.Fatalf("opened normally: %+v, %v", opened, err)
	}
	blind := es.NewCodec(reg, mustSealer(t, kek, noReads{keys}))
	got, err := blind.DecodeAllWithheld([]es.RecordedEvent{rec})
	if err != nil {
		t.Fatal(err)
	}
	want := ev
	want.Details = domain.Personal[application.Details]{}
	if c := got[0].Payload.(application.Completed); c.ApplicationID != want.ApplicationID || c.Units != 2 || c.PasscodeHash != "h" ||
		!c.CompletedAt.Equal(at) || c.StoreID != "S001" || c.Details != want.Details {
		t.Fatalf("withheld: %+v, want %+v", c, want)
	}
	if err := s.Shred(ctx, id.String()); err != nil {
		t.Fatal(err)
	}
	if got, err := blind.DecodeAllWithheld([]es.RecordedEvent{rec}); err != nil || got[0].Payload.(application.Completed).Details.Erased {
		t.Fatalf("after shredding: %+v, %v", got, err)
	}
}

// WithholdJSON cuts out sealed values wherever they are (nested, in
// arrays, with braces and escaped quotes in strings), leaves the rest as
// written, and falls back to a tree walk for a non-compact form.
func TestWithholdJSON(t *testing.T) {
	ctx := context.Background()
	s, _ := es.NewSealer(bytes.Repeat([]byte{7}, 32), memKeys{})
	plain := []byte(`{"id":"AP-1","who":{"$pii":{"subject":"AP-\"1}","value":{"name":"山田太郎"}}},` +
		`"list":[{"$pii":{"subject":"AP-2","value":"品川"}},{"x":"}{\\"}],"note":"text with \"$sealed\" in it"}`)
	sealed, _, err := s.SealJSON(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	out, err := es.WithholdJSON(sealed)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"AP-1","who":null,"list":[null,{"x":"}{\\"}],"note":"text with \"$sealed\" in it"}`
	var a, b any
	if json.Unmarshal(out, &a) != nil || json.Unmarshal([]byte(want), &b) != nil || !jsonEqual(a, b) {
		t.Fatalf("withheld\n%s\nwant\n%s", out, want)
	}
	spaced := []byte(`{"a": {"$sealed": {"subject": "AP-1", "nonce": "AA==", "ct": "AA=="}}, "b": 1}`)
	if out, err := es.WithholdJSON(spaced); err != nil || !bytes.Equal(compact(t, out), []byte(`{"a":null,"b":1}`)) {
		t.Fatalf("non-compact form: %s, %v", out, err)
	}
	if out, err := es.WithholdJSON([]byte(`{"a":1}`)); err != nil || string(out) != `{"a":1}` {
		t.Fatalf("nothing sealed: %s, %v", out, err)
	}
}

func mustSealer(t *testing.T, kek []byte, keys es.KeyTable) *es.Sealer {
	t.Helper()
	s, err := es.NewSealer(kek, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
