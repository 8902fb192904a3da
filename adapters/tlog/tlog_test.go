package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/test/pgtest"
)

const testKey = "PRIVATE+KEY+gantry.test/log+21723018+AUjFySJ0d/26rzOyfBgU6XMMeAnzgy2KpN9+eDgmHivF"

type visited struct {
	Store string                  `json:"store_id"`
	Name  domain.Personal[string] `json:"name"`
}

func (visited) EventType() string { return "test.visited" }

type logEnv struct {
	t      *testing.T
	ctx    context.Context
	pool   *pgxpool.Pool
	store  *postgres.Store
	codec  *es.Codec
	runner *projections.Runner
	pub    *tlog.Publisher
	signer *tlog.Signer
	dir    string
}

func newLogEnv(t *testing.T) *logEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := es.NewSealer(bytes.Repeat([]byte{7}, 32), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	es.Register[visited](reg, 1)
	e := &logEnv{t: t, ctx: ctx, pool: pool, store: postgres.NewStore(pool, commands.SystemClock{}, postgres.WithPollInterval(5*time.Millisecond)), codec: es.NewCodec(reg, sealer), dir: t.TempDir()}
	e.signer, err = tlog.NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	e.runner = projections.NewRunner(pool, e.store, e.codec, slog.New(slog.NewTextHandler(io.Discard, nil)), tlog.Sequencer{})
	e.pub = &tlog.Publisher{Pool: pool, Signer: e.signer, Dir: e.dir}
	done := make(chan struct{})
	go func() { defer close(done); e.runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; pool.Close() })
	return e
}

// add appends n events to stream, each sealing a name for subject.
func (e *logEnv) add(stream, store, subject string, n int) {
	e.t.Helper()
	var evs []domain.Event
	for i := 0; i < n; i++ {
		evs = append(evs, visited{Store: store, Name: domain.Seal(subject, fmt.Sprintf("Yamada Taro %s %d", subject, i))})
	}
	data, err := e.codec.Encode(e.ctx, evs...)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, stream, es.Any, es.Metadata{Actor: es.Actor{Role: "store_staff", ID: "staff-1", Store: store}}, data...); err != nil {
		e.t.Fatal(err)
	}
}

// sync waits for the sequencer and signs.
func (e *logEnv) sync() tlog.Checkpoint {
	e.t.Helper()
	head, err := e.store.Head(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.runner.WaitFor(e.ctx, head); err != nil {
		e.t.Fatal(err)
	}
	c, _, err := e.pub.SignOnce(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// rebuilt is the tree of every event's entry, computed here from ReadAll.
func (e *logEnv) rebuilt() (int64, xtlog.Hash) {
	e.t.Helper()
	var hashes []xtlog.Hash
	r := xtlog.HashReaderFunc(func(ix []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	n := int64(0)
	for from := es.Start; ; {
		evs, err := e.store.ReadAll(e.ctx, from, 1000)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			b, _ := tlog.EntryOf(ev).Marshal()
			hs, err := xtlog.StoredHashes(n, b, r)
			if err != nil {
				e.t.Fatal(err)
			}
			hashes = append(hashes, hs...)
			n++
		}
		from = evs[len(evs)-1].Position
	}
	root, err := xtlog.TreeHash(n, xtlog.HashReaderFunc(r))
	if err != nil {
		e.t.Fatal(err)
	}
	return n, root
}

func TestEntryEncodingIsExact(t *testing.T) {
	e := tlog.Entry{Commit: 1234, Prepare: 99, Stream: "consent-C1", Version: 3, Type: "application.consent_used", SchemaVersion: 2,
		RecordedAt: time.Date(2026, 4, 1, 1, 2, 3, 4000, time.UTC)}
	e.EventID[0], e.CanonicalHash[31] = 0xab, 0xcd
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlog.ParseEntry(b)
	if err != nil || got != e {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := tlog.ParseEntry(append(b, 0)); !errors.Is(err, tlog.ErrMalformedEntry) {
		t.Fatalf("a trailing byte must be refused, got %v", err)
	}
	if _, err := tlog.ParseEntry(b[:len(b)-1]); !errors.Is(err, tlog.ErrMalformedEntry) {
		t.Fatalf("a short entry must be refused, got %v", err)
	}
	b[0] = 2
	if _, err := tlog.ParseEntry(b); !errors.Is(err, tlog.ErrMalformedEntry) {
		t.Fatalf("an unknown layout must be refused, got %v", err)
	}
}

func TestSequencerBuildsTheTreeOfEveryEventAndSignsConsistently(t *testing.T) {
	e := newLogEnv(t)
	for s := 0; s < 30; s++ {
		e.add(fmt.Sprintf("application-A%d", s), "S1", fmt.Sprintf("A%d", s), 10) // 300 events: more than one tile
	}
	c := e.sync()
	n, root := e.rebuilt()
	if c.Size != n || c.Root != root || n != 300 {
		t.Fatalf("signed %d %s, the events rebuild %d %s", c.Size, c.Root, n, root)
	}
	if c.Origin != "gantry.test/log" {
		t.Fatalf("origin %q", c.Origin)
	}
	// Nothing new: nothing signed.
	if _, signed, err := e.pub.SignOnce(e.ctx); err != nil || signed {
		t.Fatalf("signed again without new entries: %v %v", signed, err)
	}
	// The served checkpoint opens with the verifier key, and is in the witness directory.
	r := tlog.Reader{Pool: e.pool, VerifierKey: e.signer.VerifierKey()}
	note, err := r.Checkpoint(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tlog.OpenCheckpoint(note, e.signer.VerifierKey()); err != nil || !got.Same(c) {
		t.Fatalf("served checkpoint: %+v %v", got, err)
	}
	files, err := tlog.ReadCheckpointDir(e.dir)
	if err != nil || len(files) != 1 || !bytes.Equal(files[0].Note, note) {
		t.Fatalf("witness directory: %d files, %v", len(files), err)
	}
	// Tiles: a client's TileHashReader checks them against the checkpoint.
	hr := xtlog.TileHashReader(xtlog.Tree{N: c.Size, Hash: c.Root}, readerTiles{e.ctx, r})
	proof, err := xtlog.ProveRecord(c.Size, 257, hr)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := r.Tile(e.ctx, "tile/entries/001.p/44")
	if err != nil {
		t.Fatal(err)
	}
	entry := bundle[2 : 2+int(bundle[0])<<8|int(bundle[1])] // entry 256
	entry2 := bundle[2+len(entry)+2:]
	entry2 = entry2[:int(bundle[2+len(entry)])<<8|int(bundle[2+len(entry)+1])] // entry 257
	if err := xtlog.CheckRecord(proof, c.Size, c.Root, 257, xtlog.RecordHash(entry2)); err != nil {
		t.Fatalf("inclusion of entry 257: %v", err)
	}
	if _, err := r.Tile(e.ctx, "tile/entries/001.p/45"); !errors.Is(err, tlog.ErrNotFound) {
		t.Fatalf("a tile beyond the tree: %v", err)
	}
	if _, err := r.Tile(e.ctx, "tile/0/1x"); !errors.Is(err, tlog.ErrBadTilePath) {
		t.Fatalf("a bad path: %v", err)
	}
	// More events: the next checkpoint extends the first.
	e.add("application-A1", "S1", "A1", 5)
	c2 := e.sync()
	if c2.Size != 305 {
		t.Fatalf("size %d", c2.Size)
	}
	hr2 := xtlog.TileHashReader(xtlog.Tree{N: c2.Size, Hash: c2.Root}, readerTiles{e.ctx, r})
	tp, err := xtlog.ProveTree(c2.Size, c.Size, hr2)
	if err != nil {
		t.Fatal(err)
	}
	if err := xtlog.CheckTree(tp, c2.Size, c2.Root, c.Size, c.Root); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	if m := gather(t, e.pub); m["gantry_log_signer_refusals_total"] != 0 || m["gantry_log_signer_refusing"] != 0 || m["gantry_log_signed_tree_size"] != 305 {
		t.Fatalf("metrics after signing: %v", m)
	}
	// A tree that does not extend what was signed is never signed: alter
	// the stored root of the first 256 entries.
	// (level 8, index 0: kept with entry 255, the 9th hash of its row).
	if _, err := e.pool.Exec(e.ctx, `UPDATE tlog_entries SET hashes = overlay(hashes PLACING sha256(substring(hashes FROM 257 FOR 32)) FROM 257 FOR 32) WHERE idx = 255`); err != nil {
		t.Fatal(err)
	}
	e.add("application-A2", "S1", "A2", 1)
	head, _ := e.store.Head(e.ctx)
	if err := e.runner.WaitFor(e.ctx, head); err != nil {
		t.Fatal(err)
	}
	if _, signed, err := e.pub.SignOnce(e.ctx); !errors.Is(err, tlog.ErrInconsistent) || signed {
		t.Fatalf("signed a tree inconsistent with the last checkpoint: signed=%v err=%v", signed, err)
	}
	// Each refusal is counted; the newest signed checkpoint stays.
	_, _, _ = e.pub.SignOnce(e.ctx)
	if m := gather(t, e.pub); m["gantry_log_signer_refusals_total"] != 2 || m["gantry_log_signer_refusing"] != 1 || m["gantry_log_signed_tree_size"] != 305 ||
		m["gantry_log_last_signed_age_seconds"] < 0 || m["gantry_log_last_signed_age_seconds"] > 60 {
		t.Fatalf("metrics after refusals: %v", m)
	}
}

// gather collects the signer's metrics.
func gather(t *testing.T, p *tlog.Publisher) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(tlog.NewMetrics(p))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetCounter() != nil {
				out[mf.GetName()] = m.GetCounter().GetValue()
			} else {
				out[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

type readerTiles struct {
	ctx context.Context
	r   tlog.Reader
}

func (readerTiles) Height() int { return tlog.TileHeight }
func (rt readerTiles) ReadTiles(tiles []xtlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := rt.r.Tile(rt.ctx, tlog.FormatTilePath(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (readerTiles) SaveTiles([]xtlog.Tile, [][]byte) {}
