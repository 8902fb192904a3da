package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// BenchmarkRebuildApplications: `gantry projections rebuild
// setup_applications` (projections.Rebuild) over a log of web applications
// written by the real command (sealed personal data, one data subject per
// application, keyed passcode hashes). Reported: events of the log per
// second, the rows of the rebuilt view checked. Target ≥ 50,000 events/s.
// REBUILD_BENCH_APPS sets the applications (default 3,000; two events
// each). The rebuild runs under the pprof label phase=rebuild.
func BenchmarkRebuildApplications(b *testing.B) {
	ctx := commands.WithMetadata(context.Background(), es.Metadata{Actor: es.Actor{Role: "anonymous"}})
	pool := pgtest.Pool(b)
	if err := postgres.Migrate(ctx, pool, nil); err != nil {
		b.Fatal(err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, err := es.NewSealer(kek, postgres.NewKeyTable(pool))
	if err != nil {
		b.Fatal(err)
	}
	reg := es.NewRegistry()
	cmds.RegisterEvents(reg)
	codec := es.NewCodec(reg, sealer)
	store := postgres.NewStore(pool, commands.SystemClock{})
	apply := cmds.ApplyHandler{Streams: commands.Streams{Store: store, Codec: codec}, Clock: commands.SystemClock{},
		Hasher: cmds.Hasher{Key: []byte("0123456789abcdef0123456789abcdef")}}
	apps := envInt("REBUILD_BENCH_APPS", 3000)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < apps; i += 16 {
				_, err := apply.Handle(ctx, cmds.Apply{
					Details: application.Details{Applicant: application.Applicant{Name: fmt.Sprintf("山田太郎%d", i), Address: "東京都品川区1-2-3",
						Phone: "03-1234-5678", Email: fmt.Sprintf("taro%d@example.jp", i)}, VehicleUser: "山田太郎"},
					Acceptances: application.AllAccepted(), Units: 1})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	var events int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil {
		b.Fatal(err)
	}
	cpu := pgtest.NewCPUMeter(b, pool)
	c0, s0 := cpu.Sample()
	start := time.Now()
	pprof.Do(ctx, pprof.Labels("phase", "rebuild"), func(ctx context.Context) {
		_, err = projections.Rebuild(ctx, pool, store, codec, proj.Applications{}, nil)
	})
	took := time.Since(start)
	c1, s1 := cpu.Sample()
	if err != nil {
		b.Fatal(err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+projections.Schema(proj.ApplicationsName)+`.applications`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if rows != apps {
		b.Fatalf("rebuilt view has %d applications, want %d", rows, apps)
	}
	b.ReportMetric(float64(events)/took.Seconds(), "events/s")
	b.ReportMetric(float64((c1-c0).Microseconds())/float64(events), "gantry-cpu-µs/event")
	b.ReportMetric(float64((s1-s0).Microseconds())/float64(events), "postgres-cpu-µs/event")
}
