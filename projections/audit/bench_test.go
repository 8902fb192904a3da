package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/projections"
	audit "github.com/gantry-etc/gantry/projections/audit"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Scale of the benchmark: 5 years of 1,000 stores × 200 proxy consents,
// each used 0 to its units (1–5) times.
const (
	benchStores   = 1000
	benchConsents = 200
)

var benchStart = time.Date(2021, 4, 1, 0, 0, 0, 0, domain.Tokyo)

// BenchmarkAuditHistory loads the history in bulk (COPY into the consent
// history table, and one event per state change into the event store) and
// measures the two auditor queries, reporting p50/p99 in milliseconds:
//
//	go test ./projections/audit -run '^$' -bench AuditHistory -benchtime 300x
func BenchmarkAuditHistory(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.Pool(b)
	load := time.Now()
	rows, evRows := benchRows()
	tx, err := pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	schema := projections.Schema(audit.ConsentHistoryName)
	for _, q := range []string{`CREATE SCHEMA ` + schema, `SET LOCAL search_path TO ` + schema, audit.ConsentHistoryDDL, `DROP INDEX consent_history_store_time`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"consent_history"}, []string{"consent_id", "seq", "store_id", "valid_from", "valid_to", "change", "application_id",
		"units", "used", "period_from", "period_to", "request_date", "recorded_at", "last_used_at", "retention_end", "ended_at", "filings"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"public", "events"}, []string{"event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at", "hash"},
		pgx.CopyFromRows(evRows)); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, audit.ConsentHistoryDDL); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE `+schema+`.consent_history; ANALYZE events`); err != nil {
		b.Fatal(err)
	}

	// One real consent stream, appended through the codec (sealed) among them.
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[application.ConsentRecorded](reg, 1)
	es.Register[application.ConsentUnitUsed](reg, 1)
	codec := es.NewCodec(reg, sealer)
	clock := commands.NewManualClock(benchStart.AddDate(1, 0, 0))
	streams := commands.Streams{Store: postgres.NewStore(pool, clock), Codec: codec}
	c := application.NewProxyConsent()
	evs, err := c.Record(application.RecordConsent{ConsentID: "BENCH-C", StoreID: "S0001", StaffID: "st", RequestDate: domain.DateOf(clock.Now()),
		Applicant: application.Applicant{Name: "山田太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678"}, Acceptances: application.AllAccepted(),
		DelegatesSetupApplication: true, Units: 5, ValidFrom: domain.DateOf(clock.Now()), ValidTo: domain.DateOf(clock.Now()).AddDays(900)}, clock.Now())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; ; i++ {
		res, err := streams.Append(ctx, "consent-BENCH-C", int64(i), evs...)
		if err != nil {
			b.Fatal(err)
		}
		c.Apply(evs[0])
		if res.LastVersion == 5 {
			break
		}
		clock.Advance(100 * 24 * time.Hour)
		id, _ := application.ParseID(fmt.Sprintf("AP-BENCH-%d", i))
		if evs, err = c.Use(application.UseConsent{ApplicationID: id, StoreID: "S0001", Applicant: application.Applicant{Name: "山田太郎"}}, clock.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d history rows and %d events in %s", len(rows), len(evRows), time.Since(load).Round(time.Millisecond))

	reader := audit.Reader{Pool: pool, Store: streams.Store, Codec: codec}
	rnd := mrand.New(mrand.NewPCG(1, 2))
	b.Run("consents_as_of_one_store", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		held := 0
		for b.Loop() {
			store := fmt.Sprintf("S%04d", rnd.IntN(benchStores))
			day := domain.DateOf(benchStart.Add(time.Duration(rnd.Int64N(int64(5 * 365 * 24 * time.Hour)))))
			t0 := time.Now()
			cs, err := reader.ConsentsAsOf(ctx, store, day, projections.PageRequest{Size: projections.MaxPageSize})
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			held += len(cs.Items)
		}
		report(b, lat)
		b.ReportMetric(float64(held)/float64(len(lat)), "consents/query")
	})
	b.Run("stream_history_as_of", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			asOf := benchStart.AddDate(1, 0, 0).Add(time.Duration(rnd.IntN(500)) * 24 * time.Hour)
			t0 := time.Now()
			p, err := reader.StreamEvents(ctx, "consent-BENCH-C", 1, 100, asOf)
			lat = append(lat, time.Since(t0))
			if err != nil || len(p.Events) == 0 {
				b.Fatal(err, p)
			}
		}
		report(b, lat)
	})
	b.Run("state_as_of", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			asOf := benchStart.AddDate(1, 0, 0).Add(time.Duration(rnd.IntN(500)) * 24 * time.Hour)
			t0 := time.Now()
			if _, err := reader.StateAsOf(ctx, "consent-BENCH-C", asOf); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		report(b, lat)
	})
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1), "max_ms")
}

// benchRows makes the history rows (one per consent state) and one event
// row per state change, deterministically.
func benchRows() (hist, evs [][]any) {
	rnd := mrand.New(mrand.NewPCG(7, 9))
	span := int64(5 * 365 * 24 * time.Hour)
	md, _ := json.Marshal(es.Metadata{Actor: es.Actor{Role: "store_staff", ID: "st"}})
	hash := make([]byte, 32)
	for s := 0; s < benchStores; s++ {
		store := fmt.Sprintf("S%04d", s)
		for k := 0; k < benchConsents; k++ {
			id := fmt.Sprintf("C-%04d-%03d", s, k)
			rec := benchStart.Add(time.Duration(rnd.Int64N(span)))
			units := 1 + rnd.IntN(5)
			uses := rnd.IntN(units + 1)
			from, to := domain.DateOf(rec).String(), domain.DateOf(rec).AddDays(365).String()
			at := rec
			filings := []string{}
			ret := rec.AddDate(5, 0, 0)
			var lastUsed any
			for seq := 1; seq <= uses+1; seq++ {
				change, app := audit.ChangeRecorded, any(nil)
				if seq > 1 {
					change = audit.ChangeUnitUsed
					a := fmt.Sprintf("AP-%s-%d", id, seq-1)
					filings, app = append(slices.Clip(filings), a), a
					lastUsed, ret = at, at.AddDate(5, 0, 0)
				}
				next := at.Add(time.Duration(rnd.Int64N(int64(60 * 24 * time.Hour))))
				var validTo any
				if seq <= uses {
					validTo = next
				}
				hist = append(hist, []any{id, seq, store, at, validTo, change, app, units, seq - 1, from, to, from, rec, lastUsed, ret, nil, filings})
				data, _ := json.Marshal(map[string]any{"consent_id": id, "store_id": store, "unit": seq - 1, "at": at})
				evs = append(evs, []any{uuid.New(), "consent-" + id, int64(seq), application.EventConsentUnitUsed, 1, string(data), string(md), at, hash})
				at = next
			}
		}
	}
	return hist, evs
}
