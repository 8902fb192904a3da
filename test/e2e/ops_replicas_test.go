package e2e_test

import (
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
)

// replicaPair starts two Gantry instances on one database with
// GANTRY_REPLICAS=on (two `gantry serve` processes behind a load
// balancer); the scheduler ticks every 100 ms.
func replicaPair(t *testing.T) (one, two *cardsEnv) {
	t.Helper()
	replicas := func(cfg *app.Config) { cfg.Replicas, cfg.JobEvery = true, 100*time.Millisecond }
	one = newCardsEnv(t, replicas)
	url := one.a.Pool.Config().ConnString()
	two = newCardsEnv(t, replicas, func(cfg *app.Config) { cfg.DatabaseURL = url })
	return one, two
}

// metric is the value of a metric family's series whose labels include
// want (0 when absent), from the instance's own registry.
func metric(t *testing.T, a *app.App, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := a.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// TestDeliveryPurgeRunsInOneReplica: the purge of old bus delivery
// records is a scheduled job under the scheduler's leadership. With two
// replicas it runs in exactly one of them (the one that leads the
// scheduler), deletes records older than 30 days and keeps newer ones; when
// the leader's lock connection dies, the other instance takes the job over
// within 5 s.
func TestDeliveryPurgeRunsInOneReplica(t *testing.T) {
	one, two := replicaPair(t)
	insert := func(handler, uuid string, age time.Duration) {
		t.Helper()
		if _, err := one.a.Pool.Exec(one.ctx, `INSERT INTO bus.deliveries (handler, uuid, delivered_at) VALUES ($1, $2, now() - make_interval(secs => $3))`,
			handler, uuid, age.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
	left := func(uuid string) int {
		return one.count(`SELECT count(*) FROM bus.deliveries WHERE handler = 'test-purge' AND uuid = '` + uuid + `'`)
	}
	waitGone := func(uuid string, within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); left(uuid) > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("delivery record %s not purged within %s", uuid, within)
			}
		}
	}
	// The bus makes its tables at start.
	for deadline := time.Now().Add(10 * time.Second); one.count(`SELECT count(*) FROM pg_tables WHERE schemaname = 'bus' AND tablename = 'deliveries'`) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bus.deliveries not created")
		}
	}
	insert("test-purge", "old-1", 31*24*time.Hour)
	insert("test-purge", "new-1", 29*24*time.Hour)
	waitGone("old-1", 5*time.Second)
	if left("new-1") != 1 {
		t.Fatal("a record younger than 30 days was purged")
	}
	runs := func(e *cardsEnv) float64 {
		return metric(t, e.a, "gantry_job_runs_total", map[string]string{"job": app.JobBusPurgeDeliveries})
	}
	leads := func(e *cardsEnv) float64 { return metric(t, e.a, "gantry_scheduler_leader", nil) }
	time.Sleep(300 * time.Millisecond) // a few more ticks
	leader, other := one, two
	if runs(two) > 0 {
		leader, other = two, one
	}
	if runs(leader) == 0 || runs(other) != 0 {
		t.Fatalf("purge runs: %v and %v, want them in one instance only", runs(one), runs(two))
	}
	if leads(leader) != 1 || leads(other) != 0 {
		t.Fatalf("scheduler leader gauges %v (runs the purge) and %v", leads(leader), leads(other))
	}

	// The leader's lock connection dies (as when its process is killed):
	// one instance runs the jobs again within 5 s, and the purge goes on.
	var killed bool
	if err := one.a.Pool.QueryRow(one.ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
AND objid = (hashtextextended('gantry scheduler', 0) & 4294967295)::oid`).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the scheduler's lock connection: %v %v", killed, err)
	}
	insert("test-purge", "old-2", 40*24*time.Hour)
	waitGone("old-2", 5*time.Second)
	// The old leader notices its lost lock within its next check (1 s).
	for deadline := time.Now().Add(5 * time.Second); leads(one)+leads(two) != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v instances lead the scheduler 5 s after the failover, want 1", leads(one)+leads(two))
		}
	}
	if left("new-1") != 1 {
		t.Fatal("a record younger than 30 days was purged")
	}
}
