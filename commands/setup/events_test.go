package setup_test

import (
	"bytes"
	"context"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// memKeys is an in-memory key table (the codec's port; the real one is
// tested in adapters/postgres).
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

func codec(t *testing.T) (*es.Codec, *es.Sealer) {
	t.Helper()
	reg := es.NewRegistry()
	cmds.RegisterEvents(reg)
	sealer, err := es.NewSealer(make([]byte, 32), memKeys{})
	if err != nil {
		t.Fatal(err)
	}
	return es.NewCodec(reg, sealer), sealer
}

// Events stored before the plate and OBU number were sealed (schema v1,
// plaintext) still decode: as personal values that are not erased.
func TestVersion1VehicleEventsStillDecode(t *testing.T) {
	ctx := context.Background()
	c, _ := codec(t)
	old := []es.RecordedEvent{
		{StreamID: "setup-SU-1", Version: 5, Type: setup.EventVehicleRecorded, SchemaVersion: 1,
			Data: []byte(`{"setup_id":"SU-1","source":"manual","plate":"品川 300 あ 12-34","gross_weight_kg":1850,"towing":false,"vehicle_type":"普通乗用","at":"2026-04-02T10:00:00+09:00"}`)},
		{StreamID: "setup-SU-1", Version: 6, Type: setup.EventOBURecorded, SchemaVersion: 1,
			Data: []byte(`{"setup_id":"SU-1","kind":"ETC2.0","number":"1234567890123456789","security":"new","at":"2026-04-02T10:00:00+09:00"}`)},
		{StreamID: "setup-SU-1", Version: 9, Type: setup.EventCompletionNotified, SchemaVersion: 1,
			Data: []byte(`{"setup_id":"SU-1","application_id":"AP-1","store_id":"S001","staff_id":"ST01","obu_kind":"ETC2.0","obu_number":"1234567890123456789","security":"new","plate":"品川 300 あ 12-34","vehicle_type":"普通乗用","gross_weight_kg":1850,"towing":false,"setup_date":"2026-04-02","at":"2026-04-02T10:00:00+09:00"}`)},
		{StreamID: "certificate-SC-1", Version: 1, Type: certificate.EventIssued, SchemaVersion: 1,
			Data: []byte(`{"content":{"number":"SC-1","obu_number":"1234567890123456789","vehicle_type":"普通乗用","plate":"品川 300 あ 12-34","gross_weight_kg":1850,"towing":false,"setup_date":"2026-04-02","store_id":"S001"},"setup_id":"SU-1","application_id":"AP-1","at":"2026-04-02T10:00:00+09:00"}`)},
	}
	evs, err := c.DecodeAll(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if v := evs[0].Payload.(setup.VehicleRecorded); v.Plate.Erased || v.Plate.Value.String() != "品川 300 あ 12-34" || v.GrossWeightKg != 1850 {
		t.Fatalf("vehicle v1: %+v", v)
	}
	if o := evs[1].Payload.(setup.OBURecorded); o.Number.Value.String() != "1234567890123456789" {
		t.Fatalf("OBU v1: %+v", o)
	}
	if n := evs[2].Payload.(setup.CompletionNotified); n.Plate.Subject != "AP-1" || n.Plate.Value.String() != "品川 300 あ 12-34" || n.OBUNumber.Value.String() != "1234567890123456789" {
		t.Fatalf("completion v1: %+v", n)
	}
	i := evs[3].Payload.(certificate.Issued)
	if i.Content.Plate != "" || i.FullContent().Plate != "品川 300 あ 12-34" || i.FullContent().OBUNumber != "1234567890123456789" || i.Vehicle.Subject != "AP-1" || i.Content.GrossWeightKg != 1850 {
		t.Fatalf("issued v1: %+v", i)
	}
}

// New vehicle events rest sealed under the application and read as erased
// once it is shredded.
func TestNewVehicleEventsAreSealed(t *testing.T) {
	ctx := context.Background()
	c, sealer := codec(t)
	data, err := c.Encode(ctx,
		setup.VehicleRecorded{SetupID: "SU-1", Plate: domain.Seal("AP-1", mustPlate(t, "品川 300 あ 12-34"))},
		setup.OBURecorded{SetupID: "SU-1", Number: domain.Seal("AP-1", mustOBU(t, "1234567890123456789"))},
		certificate.Issued{Content: certificate.Content{Number: "SC-1"}, ApplicationID: "AP-1", Vehicle: domain.Seal("AP-1", certificate.VehicleIDs{Plate: "品川 300 あ 12-34", OBUNumber: "1234567890123456789"})})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data {
		if bytes.Contains(d.Data, []byte("品川")) || bytes.Contains(d.Data, []byte("1234567890123456789")) {
			t.Fatalf("%s stored in plaintext: %s", d.Type, d.Data)
		}
	}
	if err := sealer.Shred(ctx, "AP-1"); err != nil {
		t.Fatal(err)
	}
	var recs []es.RecordedEvent
	for i, d := range data {
		recs = append(recs, es.RecordedEvent{StreamID: "x", Version: int64(i + 1), Type: d.Type, SchemaVersion: d.SchemaVersion, Data: d.Data})
	}
	evs, err := c.DecodeAll(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if !evs[0].Payload.(setup.VehicleRecorded).Plate.Erased || !evs[1].Payload.(setup.OBURecorded).Number.Erased || evs[2].Payload.(certificate.Issued).FullContent().Plate != "" {
		t.Fatalf("after shredding the application: %+v", evs)
	}
}

func mustPlate(t *testing.T, s string) setup.PlateNumber {
	p, err := setup.ParsePlate(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustOBU(t *testing.T, s string) setup.OBUNumber {
	n, err := setup.ParseOBUNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
