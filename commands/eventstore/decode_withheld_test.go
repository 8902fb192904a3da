package eventstore_test

import (
	"bytes"
	"context"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

type filed struct {
	ID   string                  `json:"id"`
	Name domain.Personal[string] `json:"name"`
}

func (filed) EventType() string { return "test.filed" }

// countingKeys is memKeys counting reads.
type countingKeys struct {
	memKeys
	reads int
}

func (c *countingKeys) Get(ctx context.Context, s string) ([]byte, error) {
	c.reads++
	return c.memKeys.Get(ctx, s)
}

// DecodeWithheld gives the event with its personal data withheld and reads
// no key; Decode of the same record still opens it.
func TestDecodeWithheldOpensNothing(t *testing.T) {
	ctx := context.Background()
	keys := &countingKeys{memKeys: memKeys{}}
	s, _ := es.NewSealer(bytes.Repeat([]byte{7}, 32), keys)
	reg := es.NewRegistry()
	es.Register[filed](reg, 1)
	codec := es.NewCodec(reg, s)
	data, err := codec.Encode(ctx, filed{ID: "AP-1", Name: domain.Seal("AP-1", "山田太郎")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range data[0].Keys {
		if _, err := keys.Put(ctx, k.Subject, k.Wrapped); err != nil {
			t.Fatal(err)
		}
	}
	rec := es.RecordedEvent{StreamID: "s", Version: 1, Type: "test.filed", SchemaVersion: 1, Data: data[0].Data}
	keys.reads = 0
	e, err := codec.DecodeWithheld(rec)
	if err != nil {
		t.Fatal(err)
	}
	if f := e.(filed); f.ID != "AP-1" || f.Name != (domain.Personal[string]{}) || keys.reads != 0 {
		t.Fatalf("withheld decode: %+v after %d key reads; want the name withheld, no key read", f, keys.reads)
	}
	e, err = codec.Decode(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if f := e.(filed); f.Name.Erased || f.Name.Value != "山田太郎" {
		t.Fatalf("decode: %+v", f)
	}
}
