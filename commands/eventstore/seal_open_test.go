package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// OpenJSON finds the sealed values in the bytes (no tree walk): nested and
// in arrays, beside other members, with a shredded subject erased, and the
// rest of the event as written; a hand-made sealed object with a member
// beside $sealed is not a sealed value and is left for the tree walk.
func TestOpenJSONInPlace(t *testing.T) {
	ctx := context.Background()
	keys := memKeys{}
	s, _ := es.NewSealer(bytes.Repeat([]byte{7}, 32), keys)
	plain := []byte(`{"id":"AP-1","n":12345678901234567890,"who":{"$pii":{"subject":"AP-1","value":{"name":"山田太郎","html":"<b>&"}}},` +
		`"list":[{"$pii":{"subject":"AP-2","value":"品川 300 あ 12-34"}},{"x":1}],"note":"text with \"$sealed\" in it"}`)
	sealed, newKeys, err := s.SealJSON(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range newKeys { // what the append that carries them stores
		if _, err := keys.Put(ctx, k.Subject, k.Wrapped); err != nil {
			t.Fatal(err)
		}
	}
	s.Stored(newKeys)
	if bytes.Contains(sealed, []byte("山田太郎")) || bytes.Contains(sealed, []byte("品川")) {
		t.Fatalf("not sealed: %s", sealed)
	}
	opened, err := s.OpenJSON(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b []byte) bool {
		var x, y any
		da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
		da.UseNumber()
		db.UseNumber()
		return da.Decode(&x) == nil && db.Decode(&y) == nil && reflect.DeepEqual(x, y)
	}
	if !same(opened, plain) {
		t.Fatalf("opened\n%s\nwant\n%s", opened, plain)
	}
	if err := s.Shred(ctx, "AP-2"); err != nil {
		t.Fatal(err)
	}
	s2, _ := es.NewSealer(bytes.Repeat([]byte{7}, 32), keys) // no cached key
	opened, err = s2.OpenJSON(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(plain, []byte(`{"$pii":{"subject":"AP-2","value":"品川 300 あ 12-34"}}`), []byte(`{"$pii":{"subject":"AP-2","erased":true}}`), 1)
	if !same(opened, want) {
		t.Fatalf("after shredding AP-2:\n%s\nwant\n%s", opened, want)
	}
	odd := []byte(`{"a":{"$sealed":{"subject":"AP-1"},"b":1}}`)
	if out, err := s.OpenJSON(ctx, odd); err != nil || !same(out, odd) {
		t.Fatalf("an object with a member beside $sealed: %s, %v", out, err)
	}
}
