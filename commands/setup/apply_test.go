package setup_test

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

type fakeStores map[string]bool

func (s fakeStores) StoreExists(_ context.Context, id string) (bool, error) { return s[id], nil }

func webApply(store string) cmds.Apply {
	return cmds.Apply{
		Details:     application.Details{Applicant: application.Applicant{Name: "山田太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Email: "taro@example.jp"}, VehicleUser: "山田太郎"},
		Acceptances: application.AllAccepted(), Units: 1, Store: store}
}

// The store named by the QR link is recorded on the application; a code
// that names no store is refused on the store field, and nothing is
// appended.
func TestApplyRecordsTheQRStore(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, store string
		wantErr     string
	}{
		{"store named", "S001", ""},
		{"no store", "", ""},
		{"unknown store", "S999", "unknown_store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			streams := newStreams()
			h := cmds.ApplyHandler{Streams: streams, Clock: clock("2026-04-01T10:00"), Hasher: cmds.Hasher{Cost: 4}, Stores: fakeStores{"S001": true}}
			out, err := h.Handle(ctx, webApply(c.store))
			if c.wantErr != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != c.wantErr || de.Field != "store" {
					t.Fatalf("err = %v, want %s on the store field", err, c.wantErr)
				}
				if len(streams.appended) != 0 {
					t.Fatalf("appended %v", streams.appended)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			evs := streams.appended[cmds.ApplicationStream(out.ApplicationID)]
			done, ok := evs[0].(application.Completed)
			if !ok || done.StoreID != c.store {
				t.Fatalf("first event %#v, want completed with store %q", evs[0], c.store)
			}
			a := application.New()
			for _, e := range evs {
				a.Apply(e)
			}
			if a.AppliedStore() != c.store || a.Snapshot().AppliedStore != c.store {
				t.Fatalf("applied store %q, want %q", a.AppliedStore(), c.store)
			}
		})
	}
}

// application.completed is at schema version 2 (store_id); version 1
// events, stored before, still replay, with no store.
func TestCompletedVersion1StillDecodes(t *testing.T) {
	ctx := context.Background()
	keys := memKeys{}
	reg := es.NewRegistry()
	cmds.RegisterEvents(reg)
	sealer, err := es.NewSealer(make([]byte, 32), keys)
	if err != nil {
		t.Fatal(err)
	}
	c := es.NewCodec(reg, sealer)
	stored := func(data []es.EventData) { // as the append that carries them would
		for _, k := range es.KeysOf(data...) {
			if _, err := keys.Put(ctx, k.Subject, k.Wrapped); err != nil {
				t.Fatal(err)
			}
		}
		c.Committed(data...)
	}
	id, _ := application.ParseID("AP-OLD0001")
	ev := completedAt("AP-OLD0001", clock("2026-04-01T10:00").Now())
	ev.StoreID = "S001"
	data, err := c.Encode(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	stored(data)
	if data[0].SchemaVersion != 2 {
		t.Fatalf("schema version %d, want 2", data[0].SchemaVersion)
	}
	v2 := es.RecordedEvent{StreamID: "application-AP-OLD0001", Version: 1, Type: data[0].Type, SchemaVersion: 2, Data: data[0].Data}
	// The same payload without store_id, as version 1 stored it.
	ev.StoreID = ""
	old, err := c.Encode(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	v1 := es.RecordedEvent{StreamID: "application-AP-OLD0001", Version: 1, Type: old[0].Type, SchemaVersion: 1, Data: old[0].Data}
	evs, err := c.DecodeAll(ctx, []es.RecordedEvent{v1, v2})
	if err != nil {
		t.Fatal(err)
	}
	got1, got2 := evs[0].Payload.(application.Completed), evs[1].Payload.(application.Completed)
	if got1.ApplicationID != id || got1.StoreID != "" || got1.Units != ev.Units || got1.Details.Value.Applicant.Name == "" {
		t.Fatalf("version 1: %+v", got1)
	}
	if got2.StoreID != "S001" {
		t.Fatalf("version 2: store %q", got2.StoreID)
	}
}
