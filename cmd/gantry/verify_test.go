package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/projections"
	"github.com/gantry-etc/gantry/test/pgtest"
)

type noted struct {
	Text string `json:"text"`
}

func (noted) EventType() string { return "test.noted" }

// tamperEnv is a database with three streams, sequenced into the log and
// signed, with the checkpoint also in a witness directory.
type tamperEnv struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	store *postgres.Store
	codec *es.Codec
	dir   string
	url   string
}

func newTamperEnv(t *testing.T) *tamperEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := es.NewSealer(bytes.Repeat([]byte{1}, 32), postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[noted](reg, 1)
	e := &tamperEnv{ctx: ctx, pool: pool, store: postgres.NewStore(pool, commands.SystemClock{}, postgres.WithPollInterval(5*time.Millisecond)),
		codec: es.NewCodec(reg, sealer), dir: t.TempDir(), url: url}
	t.Cleanup(func() { cancel(); pool.Close() })
	for _, s := range []string{"application-A1", "consent-C1", "application-A2"} {
		for v := 1; v <= 4; v++ {
			d, _ := e.codec.Encode(ctx, noted{Text: fmt.Sprintf("%s-%d", s, v)})
			if _, err := e.store.Append(ctx, s, es.Any, es.Metadata{}, d...); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.sequence(t)
	return e
}

// sequence runs the sequencer up to the head and signs a checkpoint.
func (e *tamperEnv) sequence(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	r := projections.NewRunner(e.pool, e.store, e.codec, slog.New(slog.NewTextHandler(io.Discard, nil)), tlog.Sequencer{})
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	head, _ := e.store.Head(e.ctx)
	if err := r.WaitFor(e.ctx, head); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	s, _ := tlog.NewSigner(app.TestLogKey)
	if _, _, err := (&tlog.Publisher{Pool: e.pool, Signer: s, Dir: e.dir}).SignOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// verify runs `gantry verify` as main does; a non-nil error is exit status 1.
func (e *tamperEnv) verify(t *testing.T) (string, error) {
	t.Helper()
	t.Setenv("DATABASE_URL", e.url)
	t.Setenv("GANTRY_KEK", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	t.Setenv("GANTRY_TOKEN_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)))
	t.Setenv("GANTRY_LOG_KEY", app.TestLogKey)
	t.Setenv("GANTRY_CHECKPOINT_DIR", e.dir)
	var out bytes.Buffer
	err := run(e.ctx, []string{"verify"}, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return out.String(), err
}

// rechain recomputes the hash chain of a stream after an edit, as an
// attacker with write access would.
func (e *tamperEnv) rechain(t *testing.T, stream string) {
	t.Helper()
	evs, err := e.store.ReadStream(e.ctx, stream, es.Forwards, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var prev []byte
	for _, ev := range evs {
		h := es.ChainHash(prev, es.CanonicalOf(ev))
		if _, err := e.pool.Exec(e.ctx, `UPDATE events SET hash = $3 WHERE stream_id = $1 AND version = $2`, stream, ev.Version, h); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

func (e *tamperEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(e.ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, e *tamperEnv)
		want   []string // in the output: the place named
	}{
		{"untouched", func(*testing.T, *tamperEnv) {}, nil},
		{"delete_last_event_of_a_stream", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `DELETE FROM events WHERE stream_id = 'consent-C1' AND version = 4`)
		}, []string{`stream "consent-C1" version 4`, "deleted"}},
		{"delete_a_whole_stream", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `DELETE FROM events WHERE stream_id = 'consent-C1'`)
		}, []string{`stream "consent-C1" version 1`, "deleted"}},
		{"edit_an_event_and_recompute_its_chain", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `UPDATE events SET data = '{"text":"forged"}' WHERE stream_id = 'application-A1' AND version = 2`)
			e.rechain(t, "application-A1")
		}, []string{`stream "application-A1" version 2`, "changed after it was logged"}},
		{"truncate_the_events", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `TRUNCATE events, appended_commands`)
		}, []string{"entry 0", `stream "application-A1" version 1`, "no event"}},
		{"truncate_the_log_tables", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `TRUNCATE tlog_entries, tlog_checkpoints`)
		}, []string{"entry 0", "checkpoint file", "truncated"}},
		{"alter_a_stored_tree_hash", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `UPDATE tlog_entries SET hashes = sha256(hashes) WHERE idx = 7`)
		}, []string{"entry 7", "tree hashes stored with this entry were altered"}},
		{"delete_the_last_entries_and_checkpoints", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `DELETE FROM events WHERE stream_id = 'application-A2' AND version > 2`)
			e.exec(t, `DELETE FROM tlog_entries WHERE idx >= 10`)
			e.exec(t, `DELETE FROM tlog_checkpoints`)
		}, []string{"entry 10", "checkpoint file", "missing"}}, // gone from both tables: only the witness knows it existed
		{"rewrite_events_and_rebuild_the_log_to_match", func(t *testing.T, e *tamperEnv) {
			e.exec(t, `UPDATE events SET data = '{"text":"forged"}' WHERE stream_id = 'consent-C1' AND version = 1`)
			e.rechain(t, "consent-C1")
			e.exec(t, `TRUNCATE tlog_entries, tlog_checkpoints`)
			e.exec(t, `DELETE FROM projection_checkpoints WHERE name = $1`, tlog.SequencerName)
			e.sequence(t) // the attacker cannot sign: this signs with the key only because the test holds it
			e.exec(t, `DELETE FROM tlog_checkpoints`)
		}, []string{"checkpoint file", "not a prefix"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTamperEnv(t)
			if tc.name == "rewrite_events_and_rebuild_the_log_to_match" {
				// The signer keeps its witness directory; the rebuilt log is
				// signed into another so that the old checkpoint stays.
				old := e.dir
				e.dir = t.TempDir()
				tc.tamper(t, e)
				e.dir = old
			} else {
				tc.tamper(t, e)
			}
			out, err := e.verify(t)
			if tc.want == nil {
				if err != nil || !strings.Contains(out, "log intact: 12 events") {
					t.Fatalf("untouched database: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("not detected (exit status 0):\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestAuditExportAndVerifyCommands(t *testing.T) {
	e := newTamperEnv(t)
	e.verify(t) // sets the environment
	path := t.TempDir() + "/bundle.tar"
	var out bytes.Buffer
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if err := run(e.ctx, []string{"audit", "export", "--subject", "C1", "-o", path}, &out, log); err != nil {
		t.Fatalf("audit export: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "4 events") {
		t.Fatalf("export said: %s", out.String())
	}
	// Progress (not a terminal: log lines), through the whole tree.
	if !strings.Contains(logged.String(), `msg=done what="log entries" done=12`) || !strings.Contains(logged.String(), "total=12") {
		t.Fatalf("no progress of the export's 12 log entries logged:\n%s", logged.String())
	}
	if des, _ := os.ReadDir(filepath.Dir(path)); len(des) != 1 {
		t.Fatalf("%d files beside the bundle, want only the bundle", len(des))
	}
	s, _ := tlog.NewSigner(app.TestLogKey)
	out.Reset()
	if err := run(e.ctx, []string{"audit", "verify", path, "--vkey", s.VerifierKey()}, &out, log); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	for _, w := range []string{"VERIFIED", "signature verified with the key given", "events: 4;"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("verify output lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := run(e.ctx, []string{"log", "key"}, &out, log); err != nil || strings.TrimSpace(out.String()) != s.VerifierKey() {
		t.Fatalf("log key: %q %v", out.String(), err)
	}
	out.Reset()
	if err := run(e.ctx, []string{"audit", "verify", path, "--vkey", "gantry.test/log+00000000+AAAA"}, &out, log); err == nil || !strings.Contains(out.String(), "FAILED") {
		t.Fatalf("a wrong key verified: %v\n%s", err, out.String())
	}
}
