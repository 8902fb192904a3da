package setup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// countingKeys is the key table, counting the batch reads of keys.
type countingKeys struct {
	*postgres.KeyTable
	reads atomic.Int64
}

func (k *countingKeys) GetMany(ctx context.Context, subjects []string) (map[string][]byte, error) {
	k.reads.Add(1)
	return k.KeyTable.GetMany(ctx, subjects)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// Rebuilding serves no plaintext of a shredded subject, whether the shred
// came before the rebuild or during it (between its replay and its swap,
// from another process), and the applications view, which holds no
// personal data, is rebuilt without reading a single data key.
func TestRebuildAfterAndDuringShredServesNoPlaintext(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	keys := &countingKeys{KeyTable: postgres.NewKeyTable(pool)}
	s, err := es.NewSealer(kek, keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	cmds.RegisterEvents(reg)
	codec := es.NewCodec(reg, s)
	store := postgres.NewStore(pool, fixedClock{at("2026-04-01T10:00")})
	appendOne := func(stream string, e domain.Event) {
		t.Helper()
		data, err := codec.Encode(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, stream, es.NoStream, es.Metadata{}, data...); err != nil {
			t.Fatal(err)
		}
		codec.Committed(data...)
	}
	for i := range 3 {
		id := fmt.Sprintf("AP-SHRED%d", i)
		c := completed(id, at("2026-04-01T10:00"))
		c.Details = domain.Seal(id, application.Details{Applicant: application.Applicant{Name: fmt.Sprintf("申請者QX%d", i), Email: fmt.Sprintf("qx%d@example.jp", i)}})
		appendOne("application-"+id, c)
		appendOne("consent-CN-"+fmt.Sprint(i), consentRecorded(fmt.Sprintf("CN-%d", i), "S001", fmt.Sprintf("同意者QX%d", i), at("2026-04-01T10:00")))
	}
	other := func() *es.Sealer { return sealer(t, pool) } // another process's Sealer (its own KEK is irrelevant to Shred)
	if err := other().Shred(ctx, "CN-0"); err != nil {
		t.Fatal(err)
	}

	keys.reads.Store(0)
	if _, err := projections.Rebuild(ctx, pool, store, codec, proj.Applications{}, nil); err != nil {
		t.Fatal(err)
	}
	if n := keys.reads.Load(); n != 0 {
		t.Fatalf("the applications rebuild read data keys %d times; it uses no personal data", n)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM proj_setup_applications.applications`).Scan(&rows); err != nil || rows != 3 {
		t.Fatalf("applications rebuilt: %d rows, %v", rows, err)
	}

	shredded := false
	_, err = projections.Rebuild(ctx, pool, store, codec, proj.Consents{Seal: s}, func(int64) {
		if !shredded { // after the replay, before the swap
			shredded = true
			if err := other().Shred(ctx, "CN-1"); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys.reads.Load() == 0 {
		t.Fatal("the consents rebuild opened personal data without reading the batch's keys")
	}
	for _, schema := range []string{"proj_setup_applications", "proj_setup_consents"} {
		assertNoPlaintext(t, pool, schema, "申請者QX", "同意者QX", "@example.jp")
	}
	page, err := proj.Reader{Pool: pool, Keys: s}.Consents(ctx, proj.ConsentFilter{}, projections.FirstPage)
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("consents after the rebuild: %+v, %v", page.Items, err)
	}
	for _, c := range page.Items {
		name := "<erased>"
		if c.ApplicantName != nil {
			name = *c.ApplicantName
		}
		want := "同意者QX2"
		if c.ConsentID != "CN-2" {
			want = "<erased>" // CN-0 shredded before the rebuild, CN-1 during it
		}
		if name != want {
			t.Fatalf("%s reads %q after the rebuild, want %q", c.ConsentID, name, want)
		}
	}
}

// assertNoPlaintext fails if any row of schema's tables holds one of words.
func assertNoPlaintext(t *testing.T, pool *pgxpool.Pool, schema string, words ...string) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	if rows.Err() != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v, %v", schema, tables, rows.Err())
	}
	for _, table := range tables {
		var dump []byte
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(string_agg(t::text, E'\n'), '')::bytea FROM %s.%s t`, schema, table)).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		for _, w := range words {
			if bytes.Contains(dump, []byte(w)) {
				t.Fatalf("%s.%s holds %q in plaintext", schema, table, w)
			}
		}
	}
}
