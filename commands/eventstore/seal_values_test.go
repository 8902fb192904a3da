package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

type memKeys map[string][]byte

func (m memKeys) Put(_ context.Context, s string, w []byte) ([]byte, error) {
	if old, ok := m[s]; ok {
		return old, nil
	}
	m[s] = w
	return w, nil
}

func (m memKeys) Get(_ context.Context, s string) ([]byte, error) {
	w, ok := m[s]
	if !ok {
		return nil, es.ErrNoKey
	}
	if w == nil {
		return nil, es.ErrShredded
	}
	return w, nil
}

func (m memKeys) Destroy(_ context.Context, s string) error { m[s] = nil; return nil }

// A value sealed for a read model opens with its subject's key, not with
// another subject's; after the key is shredded by any Sealer on the same
// table it reads as erased on the next Keys, and sealing again is refused.
func TestSealValue(t *testing.T) {
	ctx := context.Background()
	keys := memKeys{}
	kek := bytes.Repeat([]byte{7}, 32)
	a, _ := es.NewSealer(kek, keys)
	other, _ := es.NewSealer(kek, keys) // another process
	sealed, err := a.SealValue(ctx, "AP-1", []byte("山田太郎"))
	if err != nil || bytes.Contains(sealed, []byte("山田太郎")) {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	ring, err := a.Keys(ctx, []string{"AP-1", "AP-2"})
	if err != nil {
		t.Fatal(err)
	}
	if plain, ok, err := ring.Open("AP-1", sealed); string(plain) != "山田太郎" || !ok || err != nil {
		t.Fatalf("open: %q %v %v", plain, ok, err)
	}
	if _, ok, _ := ring.Open("AP-2", sealed); ok || !ring.Erased("AP-2") {
		t.Fatal("a subject without a key opened a value")
	}
	if err := other.Shred(ctx, "AP-1"); err != nil {
		t.Fatal(err)
	}
	ring, err = a.Keys(ctx, []string{"AP-1"})
	if err != nil {
		t.Fatal(err)
	}
	if plain, ok, err := ring.Open("AP-1", sealed); ok || plain != nil || err != nil {
		t.Fatalf("after another process shredded: %q %v %v; want erased", plain, ok, err)
	}
	// The process that shredded refuses to seal again; one that still
	// holds the key in its cache seals a value nobody can ever open.
	if _, err := other.SealValue(ctx, "AP-1", []byte("again")); !errors.Is(err, es.ErrShredded) {
		t.Fatalf("sealing for a shredded subject: %v; want ErrShredded", err)
	}
	late, err := a.SealValue(ctx, "AP-1", []byte("late"))
	if err != nil {
		t.Fatal(err)
	}
	if ring, _ := other.Keys(ctx, []string{"AP-1"}); !ring.Erased("AP-1") {
		t.Fatal("the shredded key is still in the table")
	} else if _, ok, _ := ring.Open("AP-1", late); ok {
		t.Fatal("a value sealed after the shred opens")
	}
}

// Ring opens values with the wrapped keys a query read beside them: the
// same wrapped key again (remembered) opens, a nil one (shredded in the
// table) reads as erased even right after it opened, and a wrapped key
// given for another subject does not unwrap.
func TestRingOpensWithTheKeysReadBeside(t *testing.T) {
	ctx := context.Background()
	keys := memKeys{}
	s, _ := es.NewSealer(bytes.Repeat([]byte{7}, 32), keys)
	sealed, err := s.SealValue(ctx, "L-1", []byte("品川 300 あ 12-34"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SealValue(ctx, "L-2", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ring, err := s.Ring(map[string][]byte{"L-1": keys["L-1"]})
		if err != nil {
			t.Fatal(err)
		}
		if plain, ok, err := ring.Open("L-1", sealed); string(plain) != "品川 300 あ 12-34" || !ok || err != nil {
			t.Fatalf("open: %q %v %v", plain, ok, err)
		}
	}
	ring, err := s.Ring(map[string][]byte{"L-1": nil})
	if err != nil {
		t.Fatal(err)
	}
	if plain, ok, err := ring.Open("L-1", sealed); ok || plain != nil || err != nil || !ring.Erased("L-1") {
		t.Fatalf("with the key shredded: %q %v %v; want erased", plain, ok, err)
	}
	if _, err := s.Ring(map[string][]byte{"L-1": keys["L-2"]}); err == nil {
		t.Fatal("another subject's wrapped key unwrapped")
	}
}
