// Package storetest is the conformance suite of the event-store port. Every
// adapter runs it: the PostgreSQL one in adapters/postgres, KurrentDB later.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
)

// Harness is what the suite needs from an adapter.
type Harness struct {
	Store es.Store
	Keys  es.KeyTable
	// Tamper edits one stored byte of an event's data behind the store's back.
	Tamper func(t *testing.T, stream string, version int64)
	// Verify walks every hash chain and returns the first broken link.
	Verify func(t *testing.T) (intact bool, stream string, version int64)
}

// Noted is the suite's event type; Who is personal data.
type Noted struct {
	Text string                  `json:"text"`
	Who  domain.Personal[string] `json:"who"`
}

func (Noted) EventType() string { return "storetest.noted" }

// Renamed is at schema version 2: version 1 called the field "name".
type Renamed struct {
	Title string `json:"title"`
}

func (Renamed) EventType() string { return "storetest.renamed" }

func newCodec(t *testing.T, keys es.KeyTable) *es.Codec {
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	return newCodecKEK(t, keys, kek)
}

func newCodecKEK(t *testing.T, keys es.KeyTable, kek []byte) *es.Codec {
	s, err := es.NewSealer(kek, keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	es.Register[Noted](reg, 1)
	es.Register[Renamed](reg, 2)
	reg.Upcast("storetest.renamed", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(d, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(Renamed{Title: v1.Name})
	})
	return es.NewCodec(reg, s)
}

func ev(text string) es.EventData {
	return es.EventData{ID: es.NewEventID(), Type: "storetest.noted", SchemaVersion: 1, Data: []byte(fmt.Sprintf(`{"text":%q}`, text))}
}

func md() es.Metadata {
	return es.Metadata{CorrelationID: "corr-1", Actor: es.Actor{Role: "system", ID: "storetest"}}
}

// Run runs the suite; newHarness makes a harness on a fresh, empty store.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("append_and_read", func(t *testing.T) { testAppendRead(t, newHarness(t)) })
	t.Run("expected_version", func(t *testing.T) { testExpectedVersion(t, newHarness(t)) })
	t.Run("idempotent_command", func(t *testing.T) { testIdempotent(t, newHarness(t)) })
	t.Run("append_many_all_or_none", func(t *testing.T) { testAppendMany(t, newHarness(t)) })
	t.Run("same_stream_racers", func(t *testing.T) { testSameStreamRace(t, newHarness(t)) })
	t.Run("concurrent_writers_live_subscriber", func(t *testing.T) { testConcurrentSubscriber(t, newHarness(t)) })
	t.Run("hash_chain_tamper", func(t *testing.T) { testTamper(t, newHarness(t)) })
	t.Run("shredding", func(t *testing.T) { testShred(t, newHarness(t)) })
	t.Run("oversize_event_refused", func(t *testing.T) { testOversize(t, newHarness(t)) })
	t.Run("batch_keys_shred_elsewhere", func(t *testing.T) { testBatchKeys(t, newHarness(t)) })
	t.Run("subject_keys_in_the_append", func(t *testing.T) { testKeysInAppend(t, newHarness(t)) })
	t.Run("upcast_and_unknown_type", func(t *testing.T) { testUpcast(t, newHarness(t)) })
}

func testAppendRead(t *testing.T, h Harness) {
	ctx := context.Background()
	res, err := h.Store.Append(ctx, "order-1", es.NoStream, md(), ev("a"), ev("b"))
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstVersion != 1 || res.LastVersion != 2 || res.Duplicate {
		t.Fatalf("first append: %+v", res)
	}
	if _, err := h.Store.Append(ctx, "order-1", 2, md(), ev("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.Append(ctx, "order-2", es.Any, md(), ev("x")); err != nil {
		t.Fatal(err)
	}
	fw, err := h.Store.ReadStream(ctx, "order-1", es.Forwards, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(fw); got != "a,b,c" {
		t.Fatalf("forwards = %s", got)
	}
	for i, e := range fw {
		if e.Version != int64(i+1) || e.StreamID != "order-1" || e.Metadata.CorrelationID != "corr-1" || e.Metadata.Actor.ID != "storetest" {
			t.Fatalf("event %d envelope: %+v", i, e)
		}
		if e.ID.Version() != 7 {
			t.Fatalf("event id %s is not a UUIDv7", e.ID)
		}
		if len(e.Hash) != 32 || e.RecordedAt.IsZero() {
			t.Fatalf("event %d: hash %x recorded %v", i, e.Hash, e.RecordedAt)
		}
	}
	bw, err := h.Store.ReadStream(ctx, "order-1", es.Backwards, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(bw); got != "c,b" {
		t.Fatalf("backwards = %s", got)
	}
	none, err := h.Store.ReadStream(ctx, "order-404", es.Forwards, 1, 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("missing stream: %v %v", none, err)
	}
	// $all shows an event once no older transaction is open anywhere on the
	// server; other tests' transactions may delay that briefly.
	var all []es.RecordedEvent
	for i := 0; i < 500; i++ {
		var err error
		if all, err = h.Store.ReadAll(ctx, es.Start, 0); err != nil {
			t.Fatal(err)
		}
		if len(all) == 4 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := texts(all); got != "a,b,c,x" {
		t.Fatalf("$all = %s", got)
	}
	rest, err := h.Store.ReadAll(ctx, all[1].Position, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(rest); got != "c,x" {
		t.Fatalf("$all after 2nd = %s", got)
	}
	head, err := h.Store.Head(ctx)
	if err != nil || head != all[3].Position {
		t.Fatalf("head %v, want %v (%v)", head, all[3].Position, err)
	}
}

func texts(evs []es.RecordedEvent) string {
	s := ""
	for i, e := range evs {
		var v struct{ Text string }
		_ = json.Unmarshal(e.Data, &v)
		if i > 0 {
			s += ","
		}
		s += v.Text
	}
	return s
}

func testExpectedVersion(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Store.Append(ctx, "s", es.NoStream, md(), ev("1")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		expected es.ExpectedVersion
	}{
		{"no_stream_on_existing", es.NoStream},
		{"exact_behind", 0},
		{"exact_ahead", 5},
	}
	for _, c := range cases {
		_, err := h.Store.Append(ctx, "s", c.expected, md(), ev("bad"))
		var wv *es.WrongVersionError
		if !errors.Is(err, es.ErrWrongExpectedVersion) || !errors.As(err, &wv) || wv.Actual != 1 {
			t.Fatalf("%s: err = %v, want wrong version with actual 1", c.name, err)
		}
	}
	if _, err := h.Store.Append(ctx, "s", 1, md(), ev("2")); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Store.Append(ctx, "s", es.Any, md(), ev("3")); err != nil || res.LastVersion != 3 {
		t.Fatalf("any: %+v %v", res, err)
	}
	evs, _ := h.Store.ReadStream(ctx, "s", es.Forwards, 1, 0)
	if texts(evs) != "1,2,3" {
		t.Fatalf("stream = %s: a refused append wrote something", texts(evs))
	}
}

// AppendMany writes to all its streams in one transaction or to none; a
// re-sent command writes nothing and answers the first results.
func testAppendMany(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Store.Append(ctx, "consent", es.NoStream, md(), ev("c1")); err != nil {
		t.Fatal(err)
	}
	// The second part's expected version is wrong: nothing is written.
	_, err := h.Store.AppendMany(ctx, md(),
		es.StreamAppend{Stream: "app-1", Expected: es.NoStream, Events: []es.EventData{ev("filed")}},
		es.StreamAppend{Stream: "consent", Expected: 0, Events: []es.EventData{ev("used")}})
	var wv *es.WrongVersionError
	if !errors.As(err, &wv) || wv.Stream != "consent" || wv.Actual != 1 {
		t.Fatalf("err = %v, want a wrong version on consent (actual 1)", err)
	}
	if evs, _ := h.Store.ReadStream(ctx, "app-1", es.Forwards, 1, 0); len(evs) != 0 {
		t.Fatalf("a refused AppendMany wrote %s to app-1", texts(evs))
	}
	m := md()
	m.CommandID = "file-1"
	parts := []es.StreamAppend{
		{Stream: "consent", Expected: 1, Events: []es.EventData{ev("used")}},
		{Stream: "app-1", Expected: es.NoStream, Events: []es.EventData{ev("filed"), ev("noted")}},
	}
	first, err := h.Store.AppendMany(ctx, m, parts...)
	if err != nil || len(first) != 2 || first[0].LastVersion != 2 || first[1].LastVersion != 2 || first[0].Duplicate {
		t.Fatalf("AppendMany: %+v %v", first, err)
	}
	if first[0].Position.Commit != first[1].Position.Commit {
		t.Fatalf("parts committed apart: %v and %v", first[0].Position, first[1].Position)
	}
	again, err := h.Store.AppendMany(ctx, m, parts...)
	if err != nil || len(again) != 2 || !again[0].Duplicate || !again[1].Duplicate || again[1].Position != first[1].Position {
		t.Fatalf("re-sent AppendMany: %+v %v", again, err)
	}
	c, _ := h.Store.ReadStream(ctx, "consent", es.Forwards, 1, 0)
	a, _ := h.Store.ReadStream(ctx, "app-1", es.Forwards, 1, 0)
	if texts(c) != "c1,used" || texts(a) != "filed,noted" {
		t.Fatalf("streams: consent %s, app-1 %s", texts(c), texts(a))
	}
}

func testIdempotent(t *testing.T, h Harness) {
	ctx := context.Background()
	m := md()
	m.CommandID = "cmd-42"
	first, err := h.Store.Append(ctx, "s", es.NoStream, m, ev("once"), ev("twice"))
	if err != nil {
		t.Fatal(err)
	}
	// Re-sent with the same command ID (even with a now-wrong expected version).
	again, err := h.Store.Append(ctx, "s", es.NoStream, m, ev("once"), ev("twice"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.FirstVersion != first.FirstVersion || again.LastVersion != first.LastVersion || again.Position != first.Position {
		t.Fatalf("re-sent command: %+v, first %+v", again, first)
	}
	// Concurrent re-sends of a new command: exactly one writes.
	m.CommandID = "cmd-43"
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrote := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := h.Store.Append(ctx, "s", 2, m, ev("conc"))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if !r.Duplicate {
				wrote++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	evs, _ := h.Store.ReadStream(ctx, "s", es.Forwards, 1, 0)
	if wrote != 1 || texts(evs) != "once,twice,conc" {
		t.Fatalf("wrote %d times; stream %s", wrote, texts(evs))
	}
}

func testSameStreamRace(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Store.Append(ctx, "hot", es.NoStream, md(), ev("0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Store.Append(ctx, "hot", 1, md(), ev("racer"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, es.ErrWrongExpectedVersion):
				conflicts++
			default:
				t.Errorf("untyped error: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || conflicts != 15 {
		t.Fatalf("ok %d conflicts %d, want 1 and 15", ok, conflicts)
	}
	evs, _ := h.Store.ReadStream(ctx, "hot", es.Forwards, 1, 0)
	if len(evs) != 2 {
		t.Fatalf("stream has %d events, want 2", len(evs))
	}
}

// testConcurrentSubscriber: 8 writers × 2,000 events on random streams while
// a live subscriber reads $all. Every committed event must arrive exactly
// once, in strictly increasing position order.
func testConcurrentSubscriber(t *testing.T, h Harness) {
	const writers, perWriter, streams = 8, 2000, 64
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type seen struct {
		ids   map[string]int
		order []es.Position
	}
	got := seen{ids: map[string]int{}}
	total := writers * perWriter
	subDone := make(chan error, 1)
	sub := h.Store.Subscribe(ctx, es.Start)
	go func() {
		n := 0
		firstAt := map[string]es.Position{}
		for n < total {
			batch, err := sub.Next(ctx)
			if err != nil {
				subDone <- err
				return
			}
			for _, e := range batch {
				if got.ids[e.ID.String()] > 0 {
					t.Logf("dup %s at %v stream %s@%d (batch of %d, n=%d) first seen at %v; batch %v..%v prev last %v", e.ID, e.Position, e.StreamID, e.Version, len(batch), n, firstAt[e.ID.String()], batch[0].Position, batch[len(batch)-1].Position, got.order[len(got.order)-1])
				}
				firstAt[e.ID.String()] = e.Position
				got.ids[e.ID.String()]++
				got.order = append(got.order, e.Position)
				n++
			}
		}
		subDone <- nil
	}()

	written := make(chan string, total)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				e := ev(fmt.Sprintf("w%d-%d", w, i))
				stream := fmt.Sprintf("s-%d", mrand.IntN(streams))
				if _, err := h.Store.Append(ctx, stream, es.Any, md(), e); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				written <- e.ID.String()
			}
		}(w)
	}
	wg.Wait()
	close(written)
	if err := <-subDone; err != nil {
		t.Fatalf("subscriber: %v (saw %d of %d)", err, len(got.order), total)
	}
	for id := range written {
		if got.ids[id] != 1 {
			t.Fatalf("event %s seen %d times", id, got.ids[id])
		}
	}
	if len(got.order) != total {
		t.Fatalf("saw %d events, want %d", len(got.order), total)
	}
	for i := 1; i < len(got.order); i++ {
		if !got.order[i-1].Less(got.order[i]) {
			t.Fatalf("out of order at %d: %v then %v", i, got.order[i-1], got.order[i])
		}
	}
	// Nothing more arrives.
	extra, err := h.Store.ReadAll(ctx, got.order[len(got.order)-1], 10)
	if err != nil || len(extra) != 0 {
		t.Fatalf("after the last: %d events, %v", len(extra), err)
	}
}

func testTamper(t *testing.T, h Harness) {
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := h.Store.Append(ctx, "chain-a", es.Any, md(), ev(fmt.Sprintf("a%d", i))); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Store.Append(ctx, "chain-b", es.Any, md(), ev(fmt.Sprintf("b%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if ok, s, v := h.Verify(t); !ok {
		t.Fatalf("untouched store reported broken at %s@%d", s, v)
	}
	h.Tamper(t, "chain-b", 2)
	ok, s, v := h.Verify(t)
	if ok || s != "chain-b" || v != 2 {
		t.Fatalf("tampered chain-b@2: verify says intact=%v at %s@%d", ok, s, v)
	}
}

func testShred(t *testing.T, h Harness) {
	ctx := context.Background()
	codec := newCodec(t, h.Keys)
	data, err := codec.Encode(ctx, Noted{Text: "visit", Who: domain.Seal("APP-1", "山田 太郎")}, Noted{Text: "other", Who: domain.Seal("APP-2", "佐藤 花子")})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data {
		if json.Valid(d.Data) == false || contains(d.Data, "山田") || contains(d.Data, "佐藤") {
			t.Fatalf("personal data stored in clear: %s", d.Data)
		}
	}
	if _, err := h.Store.Append(ctx, "people", es.NoStream, md(), data...); err != nil {
		t.Fatal(err)
	}
	read := func() []Noted {
		evs, err := h.Store.ReadStream(ctx, "people", es.Forwards, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]Noted, len(evs))
		for i, e := range evs {
			p, err := codec.Decode(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = p.(Noted)
		}
		return out
	}
	before := read()
	if before[0].Who.Value != "山田 太郎" || before[0].Who.Erased || before[1].Who.Value != "佐藤 花子" {
		t.Fatalf("before shredding: %+v", before)
	}
	if err := codec.Sealer().Shred(ctx, "APP-1"); err != nil {
		t.Fatal(err)
	}
	if err := codec.Sealer().Shred(ctx, "APP-1"); err != nil {
		t.Fatalf("shredding twice: %v", err)
	}
	after := read()
	if !after[0].Who.Erased || after[0].Who.Value != "" || after[0].Text != "visit" {
		t.Fatalf("after shredding APP-1: %+v", after[0])
	}
	if after[1].Who.Erased || after[1].Who.Value != "佐藤 花子" {
		t.Fatalf("APP-2 must be untouched: %+v", after[1])
	}
	// A fresh codec (another process, empty cache) sees the same.
	if p, err := newCodec(t, h.Keys).Decode(ctx, mustRead(t, h, "people", 2)); err == nil {
		t.Fatalf("a codec with another key-encryption key must not open data: %+v", p)
	}
	if ok, s, v := h.Verify(t); !ok {
		t.Fatalf("hash chain broken by shredding at %s@%d", s, v)
	}
	// New personal data for a shredded subject is refused.
	if _, err := codec.Encode(ctx, Noted{Who: domain.Seal("APP-1", "again")}); !errors.Is(err, es.ErrShredded) {
		t.Fatalf("sealing for a shredded subject: %v", err)
	}
}

func mustRead(t *testing.T, h Harness, stream string, version int64) es.RecordedEvent {
	evs, err := h.Store.ReadStream(context.Background(), stream, es.Forwards, version, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("read %s@%d: %v", stream, version, err)
	}
	return evs[0]
}

func contains(b []byte, s string) bool {
	return len(s) > 0 && string(b) != "" && indexOf(string(b), s) >= 0
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func testUpcast(t *testing.T, h Harness) {
	ctx := context.Background()
	codec := newCodec(t, h.Keys)
	old := es.EventData{ID: es.NewEventID(), Type: "storetest.renamed", SchemaVersion: 1, Data: []byte(`{"name":"ETC2.0"}`)}
	unknown := es.EventData{ID: es.NewEventID(), Type: "storetest.vanished", SchemaVersion: 1, Data: []byte(`{}`)}
	if _, err := h.Store.Append(ctx, "legacy", es.NoStream, md(), old, unknown); err != nil {
		t.Fatal(err)
	}
	p, err := codec.Decode(ctx, mustRead(t, h, "legacy", 1))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := p.(Renamed); !ok || r.Title != "ETC2.0" {
		t.Fatalf("upcast v1→v2: %#v", p)
	}
	_, err = codec.Decode(ctx, mustRead(t, h, "legacy", 2))
	var de *es.DecodeError
	if !errors.As(err, &de) || de.Stream != "legacy" || de.Version != 2 || de.Type != "storetest.vanished" {
		t.Fatalf("unknown type: %v", err)
	}
}

// countingKeys counts single-key reads.
type countingKeys struct {
	es.KeyTable
	gets, many atomic.Int64
}

func (c *countingKeys) Get(ctx context.Context, subject string) ([]byte, error) {
	c.gets.Add(1)
	return c.KeyTable.Get(ctx, subject)
}

func (c *countingKeys) GetMany(ctx context.Context, subjects []string) (map[string][]byte, error) {
	c.many.Add(1)
	return c.KeyTable.(es.KeyBatch).GetMany(ctx, subjects)
}

// testBatchKeys: decoding a batch reads the keys of all its data subjects in
// one round trip, and a shred made by another process (another Sealer on the
// same key table, same key-encryption key) takes effect on the very next
// decode, although this process had just opened the same data.
func testBatchKeys(t *testing.T, h Harness) {
	ctx := context.Background()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	writer := newCodecKEK(t, h.Keys, kek)
	var evs []domain.Event
	for i := range 40 {
		evs = append(evs, Noted{Text: fmt.Sprint(i), Who: domain.Seal(fmt.Sprintf("SUBJ-%d", i%20), fmt.Sprintf("person %d", i%20))})
	}
	data, err := writer.Encode(ctx, evs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.Append(ctx, "batch", es.NoStream, md(), data...); err != nil {
		t.Fatal(err)
	}
	recs, err := h.Store.ReadStream(ctx, "batch", es.Forwards, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{KeyTable: h.Keys}
	reader := newCodecKEK(t, keys, kek)
	decode := func() []es.Event {
		out, err := reader.DecodeAll(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := decode()
	for i, e := range got {
		if n := e.Payload.(Noted); n.Who.Erased || n.Who.Value != fmt.Sprintf("person %d", i%20) {
			t.Fatalf("event %d: %+v", i, n)
		}
	}
	if keys.many.Load() != 1 || keys.gets.Load() != 0 {
		t.Fatalf("40 events of 20 subjects: %d batch key reads and %d single ones, want 1 and 0", keys.many.Load(), keys.gets.Load())
	}
	if err := writer.Sealer().Shred(ctx, "SUBJ-3"); err != nil {
		t.Fatal(err)
	}
	for i, e := range decode() {
		n := e.Payload.(Noted)
		if shredded := i%20 == 3; n.Who.Erased != shredded || (shredded && n.Who.Value != "") {
			t.Fatalf("after SUBJ-3 was shredded elsewhere, event %d: %+v", i, n)
		}
	}
	// One by one (as an aggregate load does) the shred shows too.
	p, err := reader.Decode(ctx, recs[3])
	if err != nil {
		t.Fatal(err)
	}
	if !p.(Noted).Who.Erased {
		t.Fatalf("Decode after the shred: %+v", p)
	}
}

// testOversize (the adapter under test is configured with the limit
// es.MaxEventSize): an event of exactly MaxEventSize bytes is stored; one byte
// more is refused with *EventTooLargeError naming it, and nothing of the
// append (nor of an AppendMany holding it) is written.
func testOversize(t *testing.T, h Harness) {
	ctx := context.Background()
	sized := func(n int) es.EventData {
		pad := strings.Repeat("x", n-len(`{"text":""}`))
		return es.EventData{ID: es.NewEventID(), Type: "storetest.noted", SchemaVersion: 1, Data: []byte(`{"text":"` + pad + `"}`)}
	}
	if _, err := h.Store.Append(ctx, "big", es.NoStream, md(), sized(es.MaxEventSize)); err != nil {
		t.Fatalf("an event of exactly %d bytes: %v", es.MaxEventSize, err)
	}
	_, err := h.Store.Append(ctx, "big", 1, md(), ev("small"), sized(es.MaxEventSize+1))
	var tl *es.EventTooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, es.ErrEventTooLarge) || tl.Stream != "big" || tl.Size != es.MaxEventSize+1 || tl.Limit != es.MaxEventSize || tl.Type != "storetest.noted" {
		t.Fatalf("oversize append: %v", err)
	}
	_, err = h.Store.AppendMany(ctx, md(), es.StreamAppend{Stream: "other", Expected: es.NoStream, Events: []es.EventData{ev("a")}},
		es.StreamAppend{Stream: "big", Expected: 1, Events: []es.EventData{sized(es.MaxEventSize + 100)}})
	if !errors.Is(err, es.ErrEventTooLarge) {
		t.Fatalf("oversize AppendMany: %v", err)
	}
	if evs, _ := h.Store.ReadStream(ctx, "big", es.Forwards, 1, 0); len(evs) != 1 {
		t.Fatalf("stream big holds %d events, want only the first", len(evs))
	}
	if evs, _ := h.Store.ReadStream(ctx, "other", es.Forwards, 1, 0); len(evs) != 0 {
		t.Fatalf("AppendMany wrote %d events beside the refused one", len(evs))
	}
}

// testKeysInAppend: a new data subject's key is written by the append that
// first seals data under it, in its transaction. A failed append (a wrong
// expected version, alone or in AppendMany) leaves no key behind; a key
// stored meanwhile by another process, or a shredded subject, refuses the
// append (ErrKeyChanged) and writes nothing; encoding again seals under the
// stored key.
func testKeysInAppend(t *testing.T, h Harness) {
	ctx := context.Background()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	codec := newCodecKEK(t, h.Keys, kek)
	noKey := func(subject string) {
		t.Helper()
		if _, err := h.Keys.Get(ctx, subject); !errors.Is(err, es.ErrNoKey) {
			t.Fatalf("key of %s after a failed append: %v, want ErrNoKey", subject, err)
		}
	}
	if _, err := h.Store.Append(ctx, "keys-1", es.NoStream, md(), ev("first")); err != nil {
		t.Fatal(err)
	}
	data, err := codec.Encode(ctx, Noted{Text: "k", Who: domain.Seal("SUBJ-K1", "山田 太郎")})
	if err != nil {
		t.Fatal(err)
	}
	if len(data[0].Keys) != 1 || data[0].Keys[0].Subject != "SUBJ-K1" {
		t.Fatalf("the first event of a new subject carries its key: %+v", data[0].Keys)
	}
	noKey("SUBJ-K1") // sealing alone writes nothing
	if _, err := h.Store.Append(ctx, "keys-1", es.ExpectedVersion(5), md(), data...); !errors.Is(err, es.ErrWrongExpectedVersion) {
		t.Fatalf("append at a wrong version: %v", err)
	}
	noKey("SUBJ-K1")
	if _, err := h.Store.AppendMany(ctx, md(),
		es.StreamAppend{Stream: "keys-2", Expected: es.NoStream, Events: data},
		es.StreamAppend{Stream: "keys-1", Expected: es.NoStream, Events: []es.EventData{ev("late")}}); !errors.Is(err, es.ErrWrongExpectedVersion) {
		t.Fatalf("AppendMany with a conflict: %v", err)
	}
	noKey("SUBJ-K1")
	if _, err := h.Store.Append(ctx, "keys-1", es.ExpectedVersion(1), md(), data...); err != nil {
		t.Fatal(err)
	}
	stored, err := h.Keys.Get(ctx, "SUBJ-K1")
	if err != nil || !bytes.Equal(stored, data[0].Keys[0].Wrapped) {
		t.Fatalf("key after the append: %v", err)
	}
	got, err := codec.Decode(ctx, mustRead(t, h, "keys-1", 2))
	if err != nil || got.(Noted).Who.Value != "山田 太郎" {
		t.Fatalf("decoding under the stored key: %+v %v", got, err)
	}
	// Carrying a key that is stored already is harmless; once the codec
	// knows the append committed, events no longer carry it.
	again, _ := codec.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K1", "again")})
	if _, err := h.Store.Append(ctx, "keys-1", es.ExpectedVersion(2), md(), again...); err != nil {
		t.Fatal(err)
	}
	codec.Committed(again...)
	if later, _ := codec.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K1", "later")}); len(later[0].Keys) != 0 {
		t.Fatalf("a stored key is carried again: %+v", later[0].Keys)
	}

	// Two processes seal a new subject's first data at the same time.
	other := newCodecKEK(t, h.Keys, kek)
	mine, _ := codec.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K2", "佐藤 花子")})
	theirs, _ := other.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K2", "佐藤 花子")})
	if _, err := h.Store.Append(ctx, "keys-3", es.NoStream, md(), theirs...); err != nil {
		t.Fatal(err)
	}
	var kc *es.KeyChangedError
	if _, err := h.Store.Append(ctx, "keys-4", es.NoStream, md(), mine...); !errors.As(err, &kc) || !errors.Is(err, es.ErrKeyChanged) || len(kc.Subjects) != 1 || kc.Subjects[0] != "SUBJ-K2" {
		t.Fatalf("append under a key another process replaced: %v", err)
	}
	if evs, _ := h.Store.ReadStream(ctx, "keys-4", es.Forwards, 1, 0); len(evs) != 0 {
		t.Fatalf("the refused append wrote %d events", len(evs))
	}
	codec.Sealer().Forget("SUBJ-K2")
	mine, _ = codec.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K2", "佐藤 花子")})
	if len(mine[0].Keys) != 0 {
		t.Fatalf("sealed again, the event still carries a new key")
	}
	if _, err := h.Store.Append(ctx, "keys-4", es.NoStream, md(), mine...); err != nil {
		t.Fatal(err)
	}

	// A subject shredded while its first events were being sealed.
	pending, _ := codec.Encode(ctx, Noted{Who: domain.Seal("SUBJ-K3", "鈴木 一郎")})
	if err := other.Sealer().Shred(ctx, "SUBJ-K3"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.AppendMany(ctx, md(), es.StreamAppend{Stream: "keys-5", Expected: es.NoStream, Events: pending}); !errors.Is(err, es.ErrKeyChanged) {
		t.Fatalf("append under the key of a shredded subject: %v", err)
	}
	if _, err := h.Keys.Get(ctx, "SUBJ-K3"); !errors.Is(err, es.ErrShredded) {
		t.Fatalf("the shredded subject's key: %v", err)
	}
}
