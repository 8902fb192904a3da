package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	projcards "github.com/gantry-etc/gantry/projections/cards"
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

// runState is GET /v1/runs/{run}.
type runState struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Done        int64           `json:"done"`
	Total       int64           `json:"total"`
	Percent     int             `json:"percent"`
	PerSecond   float64         `json:"per_second"`
	SecondsLeft *int64          `json:"seconds_left"`
	Ended       *time.Time      `json:"ended"`
	Stalled     bool            `json:"stalled"`
	Result      json.RawMessage `json:"result"`
	Failure     string          `json:"failure"`
}

// TestRunProgressFromAnotherReplica: the progress of a usage import and
// of a billing run started on one instance is read through the HTTP API
// (and the run's web page) of another instance on the same database.
// While the import runs, the other instance sees rows imported growing;
// at the end both runs show final counts that agree with their events.
// Another account does not see them.
func TestRunProgressFromAnotherReplica(t *testing.T) {
	one, two := replicaPair(t)
	one.setup()
	var c projcards.CardRow
	if st, body := one.do("POST", "/v1/cards", one.admin, map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"}, &c); st != http.StatusCreated {
		t.Fatalf("issue: %d %s", st, body)
	}

	// A usage file large enough to take a while (January 2027: not billed
	// below).
	const rows = 200_000
	var b strings.Builder
	b.WriteString(usageHeader)
	for i := range rows {
		day, minute := 1+i%28, i%1440
		fmt.Fprintf(&b, "P-%d,NEXCO-E,%s,品川 300 あ 12-34,東京,2027-01-%02d %02d:%02d:00,厚木,2027-01-%02d %02d:%02d:30,%d\n",
			i, c.Card, day, minute/60, minute%60, day, minute/60, minute%60, 100+i%900)
	}
	file := []byte(b.String())
	const uploadRun = "upload-run-0000000001"
	type answer struct {
		code int
		body []byte
		res  cmdcards.UsageImportResult
	}
	imported := make(chan answer, 1)
	go func() {
		var a answer
		a.code, a.body = one.do("POST", "/v1/usage-files?name=big.csv&run="+uploadRun, one.fin, file, &a.res)
		imported <- a
	}()
	var (
		live    []runState // seen on the other instance before the end
		final   runState
		polling = time.Now()
	)
	for {
		var x runState
		st, body := two.do("GET", "/v1/runs/"+uploadRun, two.fin, nil, &x)
		switch {
		case st == http.StatusNotFound: // not begun yet
		case st != http.StatusOK:
			t.Fatalf("GET run on the other instance: %d %s", st, body)
		case x.Ended == nil:
			if len(live) > 0 && x.Done < live[len(live)-1].Done {
				t.Fatalf("rows imported went back: %d after %d", x.Done, live[len(live)-1].Done)
			}
			live = append(live, x)
		}
		if x.Ended != nil {
			final = x
			break
		}
		if time.Since(polling) > 3*time.Minute {
			t.Fatal("the import did not end within 3 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a := <-imported
	if a.code != http.StatusOK || a.res.Imported != rows {
		t.Fatalf("import: %d %s", a.code, a.body)
	}
	var moving *runState
	for i := range live {
		if x := live[i]; x.Done > 0 && x.Done < rows {
			moving = &live[i]
			break
		}
	}
	if moving == nil {
		t.Fatalf("the other instance never saw the import part way (%d looks): %+v", len(live), live)
	}
	if moving.Kind != "usage" || moving.Total < moving.Done || moving.PerSecond <= 0 || moving.SecondsLeft == nil {
		t.Fatalf("part way: %+v", *moving)
	}
	t.Logf("part way on the other instance: %d of about %d rows, %.0f rows/s, %d s left", moving.Done, moving.Total, moving.PerSecond, *moving.SecondsLeft)
	var res cmdcards.UsageImportResult
	if err := json.Unmarshal(final.Result, &res); err != nil {
		t.Fatalf("final result: %v %s", err, final.Result)
	}
	var evRows, evImported int
	if err := one.a.Pool.QueryRow(one.ctx, `SELECT (data->>'rows')::int, (data->>'imported')::int FROM events WHERE type = $1`, billing.EventUsageFileImported).Scan(&evRows, &evImported); err != nil {
		t.Fatal(err)
	}
	if final.Done != rows || final.Total != rows || final.Percent != 100 || final.Failure != "" ||
		res.Rows != evRows || res.Imported != evImported || evImported != rows || one.count(`SELECT count(*) FROM usage_records`) != rows {
		t.Fatalf("final upload run %+v, result %+v; event rows %d imported %d", final, res, evRows, evImported)
	}

	// A billing run started on one, read on two.
	one.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo))
	two.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo))
	const billingRun = "billing-run-000000001"
	var outcomes []cmdcards.BillingOutcome
	if st, body := one.do("POST", "/v1/billing-runs", one.fin, map[string]string{"month": "2026-11", "run": billingRun}, &outcomes); st != http.StatusOK || len(outcomes) != 1 {
		t.Fatalf("billing run: %d %s", st, body)
	}
	var br runState
	if st, body := two.do("GET", "/v1/runs/"+billingRun, two.fin, nil, &br); st != http.StatusOK {
		t.Fatalf("GET billing run on the other instance: %d %s", st, body)
	}
	var got []cmdcards.BillingOutcome
	if err := json.Unmarshal(br.Result, &got); err != nil {
		t.Fatal(err)
	}
	invoices := one.count(`SELECT count(*) FROM events WHERE type = '` + billing.EventInvoiceIssued + `'`)
	if br.Kind != "billing" || br.Ended == nil || br.Done != 1 || br.Total != 1 || len(got) != 1 || got[0] != outcomes[0] || got[0].Action != "issued" || invoices != 1 {
		t.Fatalf("billing run on the other instance: %+v %+v (invoice events %d), want %+v", br, got, invoices, outcomes)
	}
	// Its web page on the other instance shows the final counts.
	req, _ := http.NewRequest("GET", two.srv.URL+"/finance/runs/"+billingRun, nil)
	req.AddCookie(&http.Cookie{Name: "gantry_session", Value: two.fin})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "1 / 1") || !strings.Contains(string(page), outcomes[0].Invoice) || strings.Contains(string(page), "http-equiv=\"refresh\"") {
		t.Fatalf("run page on the other instance: %d %s", resp.StatusCode, page)
	}

	// Another finance account sees neither run; a bad run ID is refused.
	other := two.a.API.Tokens().Issue(api.Principal{Role: api.RoleFinance, Subject: "fin-2"})
	if st, _ := two.do("GET", "/v1/runs/"+billingRun, other, nil, nil); st != http.StatusNotFound {
		t.Fatalf("another account's run: %d, want 404", st)
	}
	if st, body := one.do("POST", "/v1/billing-runs", one.fin, map[string]string{"month": "2026-11", "run": "short"}, nil); st != http.StatusUnprocessableEntity && st != http.StatusBadRequest {
		t.Fatalf("bad run ID: %d %s", st, body)
	}
	// The same ID from another account is taken: 409, and nothing billed.
	if st, body := one.do("POST", "/v1/billing-runs", other, map[string]string{"month": "2026-11", "run": billingRun}, nil); st != http.StatusConflict {
		t.Fatalf("another account's run ID: %d %s", st, body)
	}
}
