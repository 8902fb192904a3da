package cardsdb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/test/pgtest"
)

func TestNumbers(t *testing.T) {
	ctx := context.Background()
	n := cardsdb.Numbers{Pool: pgtest.Pool(t), Prefix: "91234"}
	a := domaintest.Must(n.Next(ctx, ""))
	b := domaintest.Must(n.Next(ctx, ""))
	first := domaintest.Must(n.Next(ctx, "cmd-1"))
	again := domaintest.Must(n.Next(ctx, "cmd-1"))
	other := domaintest.Must(n.Next(ctx, "cmd-2"))
	if a == b || first != again || first == other || first == a || first == b {
		t.Fatalf("numbers %v %v, cmd-1 %v then %v, cmd-2 %v", a, b, first, again, other)
	}
	if _, err := card.ParseCardNumber(first.String()); err != nil {
		t.Fatalf("not a valid card number: %v", err)
	}
	if got, ok, err := n.Given(ctx, "cmd-1"); err != nil || !ok || got != first {
		t.Fatalf("Given cmd-1: %v %v %v", got, ok, err)
	}
	if _, ok, err := n.Given(ctx, "cmd-unknown"); err != nil || ok {
		t.Fatalf("Given of an unknown command: %v %v", ok, err)
	}
}

// importer is the usage import as gantry wires it: the streaming reader,
// the chunked loader, and the event store appending within its
// transaction; chunkRows small so that a test file spans several chunks.
func importer(t testing.TB, pool *pgxpool.Pool, chunkRows int) cmdcards.ImportUsageHandler {
	reg := es.NewRegistry()
	cmdcards.RegisterEvents(reg)
	sealer, err := es.NewSealer([]byte("0123456789abcdef0123456789abcdef"), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewStore(pool, commands.SystemClock{})
	streams := commands.Streams{Store: store, Codec: es.NewCodec(reg, sealer)}
	return cmdcards.ImportUsageHandler{Streams: streams, Reader: edi.UsageReader{ChunkRows: chunkRows},
		Store: cardsdb.UsageStore{Streams: streams, Store: store}, Clock: commands.SystemClock{}}
}

// issue makes card n known: a card is issued when its stream exists (a
// bare row is enough here).
func issue(t testing.TB, pool *pgxpool.Pool, n card.CardNumber) {
	if _, err := pool.Exec(context.Background(), `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
		VALUES (gen_random_uuid(), $1, 1, 'card.issued', 1, '{}', '{}', now(), '\x00')`, "card-"+n.String()); err != nil {
		t.Fatal(err)
	}
}

func usageFile(lines ...string) string {
	return edi.UsageHeader + "\n" + strings.Join(lines, "\n") + "\n"
}

func usageLine(id string, c card.CardNumber) string {
	return id + ",NEXCO-E," + c.String() + ",品川 300 あ 12-34,東京,2026-11-04 08:00:00,厚木,2026-11-04 08:40:00,1000"
}

// One import is one transaction: records of issued cards and the
// usage.file_imported event commit together (the records carry the
// event's transaction ID); records of unknown cards are left out and
// listed; records known before (an earlier file, an earlier chunk, or twice
// in one chunk) are skipped; a bad line, a file imported before, or a
// cancelled import writes nothing at all.
func TestUsageImportOneTransaction(t *testing.T) {
	ctx := commands.WithMetadata(context.Background(), es.Metadata{Actor: es.Actor{Role: "finance", ID: "test"}})
	pool := pgtest.Pool(t)
	h := importer(t, pool, 2)
	issued, unknown := domaintest.Must(card.NewCardNumber("91234", 1)), domaintest.Must(card.NewCardNumber("91234", 2))
	issue(t, pool, issued)
	count := func(q string) (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	records := func() int { return count(`SELECT count(*) FROM usage_records`) }
	files := func() int { return count(`SELECT count(*) FROM events WHERE type = 'usage.file_imported'`) }

	first := usageFile(usageLine("R-1", issued), usageLine("R-2", unknown), usageLine("R-3", issued), usageLine("R-3", issued), usageLine("R-4", issued))
	var progress []int
	res, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "f1.csv", Body: strings.NewReader(first), Progress: func(n int) { progress = append(progress, n) }})
	if err != nil || res.Rows != 5 || res.Imported != 3 || res.AlreadyKnown != 1 || !slices.Equal(res.UnknownCards, []string{unknown.String()}) || res.Duplicate {
		t.Fatalf("first import: %+v %v", res, err)
	}
	if !slices.Equal(progress, []int{2, 4, 5}) {
		t.Fatalf("progress %v, want a call per chunk of 2", progress)
	}
	if n := count(`SELECT count(*) FROM usage_records u JOIN events e ON e.transaction_id = u.import_tx WHERE e.type = 'usage.file_imported'`); n != 3 {
		t.Fatalf("%d records written by the event's transaction, want 3", n)
	}

	res, err = h.Handle(ctx, cmdcards.ImportUsage{Name: "f2.csv", Body: strings.NewReader(usageFile(usageLine("R-1", issued), usageLine("R-9", issued)))})
	if err != nil || res.Imported != 1 || res.AlreadyKnown != 1 || records() != 4 || files() != 2 {
		t.Fatalf("overlapping file: %+v %v, %d records, %d files", res, err, records(), files())
	}

	res, err = h.Handle(ctx, cmdcards.ImportUsage{Name: "again.csv", Body: strings.NewReader(first)})
	if err != nil || !res.Duplicate || records() != 4 || files() != 2 {
		t.Fatalf("same file again: %+v %v, %d records, %d files", res, err, records(), files())
	}

	// Good chunks first, then a bad line: the good ones are rolled back.
	bad := usageFile(usageLine("R-10", issued), usageLine("R-11", issued), usageLine("R-12", issued), "R-13,NEXCO-E,"+issued.String()+",品川 300 あ 12-34,東京,2026-11-04 08:00:00,厚木,2026-11-04 08:40:00,lots")
	_, err = h.Handle(ctx, cmdcards.ImportUsage{Name: "bad.csv", Body: strings.NewReader(bad)})
	var fe *cmdcards.UsageFileError
	if !errors.As(err, &fe) || len(fe.Problems) != 1 || fe.Problems[0].Line != 5 || fe.Problems[0].Field != "toll" || records() != 4 || files() != 2 {
		t.Fatalf("bad file: %v, %d records, %d files", err, records(), files())
	}

	cancelled, cancel := context.WithCancel(ctx)
	_, err = h.Handle(cancelled, cmdcards.ImportUsage{Name: "c.csv", Body: strings.NewReader(usageFile(usageLine("R-20", issued), usageLine("R-21", issued), usageLine("R-22", issued))),
		Progress: func(int) { cancel() }})
	if !errors.Is(err, context.Canceled) || records() != 4 || files() != 2 {
		t.Fatalf("cancelled import: %v, %d records, %d files", err, records(), files())
	}

	// IDs within the span of known ones (R-35 … R-5 holds R-4), none of
	// them known: each is probed, and both are imported.
	res, err = h.Handle(ctx, cmdcards.ImportUsage{Name: "between.csv", Body: strings.NewReader(usageFile(usageLine("R-35", issued), usageLine("R-5", issued)))})
	if err != nil || res.Imported != 2 || res.AlreadyKnown != 0 || records() != 6 || files() != 3 {
		t.Fatalf("interleaved IDs: %+v %v, %d records, %d files", res, err, records(), files())
	}
}

// A retried keyed import that committed answers the first import's counts
// and writes nothing more.
func TestUsageImportKeyedRetry(t *testing.T) {
	pool := pgtest.Pool(t)
	h := importer(t, pool, 100)
	issued := domaintest.Must(card.NewCardNumber("91234", 1))
	issue(t, pool, issued)
	file := usageFile(usageLine("R-1", issued), usageLine("R-2", issued))
	keyed := func() context.Context {
		return commands.WithCommand(context.Background(), &commands.Command{ID: "k:test-scope.request", Seed: []byte("seed")})
	}
	first, err := h.Handle(keyed(), cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader(file)})
	if err != nil || first.Imported != 2 {
		t.Fatalf("first: %+v %v", first, err)
	}
	ctx := keyed()
	again, err := h.Handle(ctx, cmdcards.ImportUsage{Name: "f.csv", Body: strings.NewReader(file)})
	if err != nil || again.Imported != 2 || again.Rows != 2 || again.Position != first.Position || !commands.CommandFrom(ctx).Replayed() {
		t.Fatalf("retry: %+v %v (first %+v)", again, err, first)
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM usage_records`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d records %v", n, err)
	}
}
