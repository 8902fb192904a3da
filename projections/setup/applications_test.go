package setup_test

import (
	"context"
	"testing"

	"github.com/gantry-etc/gantry/domain/application"
	proj "github.com/gantry-etc/gantry/projections/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Completions are written as one multi-row INSERT per run, with the
// semantics of one INSERT … ON CONFLICT DO NOTHING each: the first
// completion of an application wins (in one batch and across batches), and
// an update later in the batch sees the row inserted before it.
func TestApplicationsBatchKeepsTheOrderAndTheFirstCompletion(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	a1, again, b := completed("AP-A", at("2026-04-01T10:00")), completed("AP-A", at("2026-04-02T10:00")), completed("AP-B", at("2026-04-01T11:00"))
	again.Units = 2
	b.StoreID = "S009"
	id, _ := application.ParseID("AP-A")
	project(t, pool, proj.Applications{}, a1, again,
		application.Received{ApplicationID: id, StoreID: "S001", ReceivedAt: at("2026-04-03T10:00")}, b)
	later := completed("AP-A", at("2026-04-05T10:00"))
	later.Units = 3
	project(t, pool, proj.Applications{}, later, completed("AP-C", at("2026-04-05T10:00")))

	type row struct {
		units  int
		status string
		store  *string
		done   string
	}
	got := map[string]row{}
	rows, err := pool.Query(ctx, `SELECT application_id, units, status, applied_store, to_char(completed_at AT TIME ZONE 'Asia/Tokyo', 'MM-DD') FROM proj_setup_applications.applications`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.units, &r.status, &r.store, &r.done); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if a := got["AP-A"]; len(got) != 3 || a.units != 1 || a.status != "received" || a.done != "04-01" || a.store != nil {
		t.Fatalf("AP-A: %+v (all: %+v); want the first completion, received", a, got)
	}
	if b := got["AP-B"]; b.store == nil || *b.store != "S009" || b.status != "completed" {
		t.Fatalf("AP-B: %+v", b)
	}
	if c, ok := got["AP-C"]; !ok || c.status != "completed" {
		t.Fatalf("AP-C: %+v", c)
	}
}
