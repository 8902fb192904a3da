package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/adapters/tlog"
	es "github.com/gantry-etc/gantry/commands/eventstore"
)

func TestAuditExportVerifiesOfflineAndAnyEditedByteFails(t *testing.T) {
	e := newLogEnv(t)
	e.add("application-A1", "S1", "A1", 3)
	e.add("application-A2", "S2", "A2", 4)
	e.add("consent-C1", "S1", "C1", 2)
	e.add("application-A3", "S1", "A3", 1)
	// Stored JSON that is not in Go's compact form: its record cannot
	// rebuild the canonical bytes, so the bundle carries them.
	if _, err := e.store.Append(e.ctx, "application-A5", es.NoStream, es.Metadata{Actor: es.Actor{Store: "S1"}},
		es.EventData{ID: es.NewEventID(), Type: "test.visited", SchemaVersion: 1, Data: []byte(`{"store_id": "S1"}`)}); err != nil {
		t.Fatal(err)
	}
	c := e.sync()
	x := tlog.Exporter{Pool: e.pool, VerifierKey: e.signer.VerifierKey()}
	var buf bytes.Buffer
	sum, err := x.Export(e.ctx, tlog.ExportQuery{Store: "S1"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 7 || sum.Checkpoint.Size != c.Size {
		t.Fatalf("exported %d events against size %d, want 7 against %d", sum.Events, sum.Checkpoint.Size, c.Size)
	}
	bundle := bytes.Clone(buf.Bytes())
	if bytes.Contains(bundle, []byte("Yamada")) {
		t.Fatal("the bundle holds plaintext personal data")
	}
	if !bytes.Contains(bundle, []byte(`$sealed`)) {
		t.Fatal("the bundle should show sealed values as ciphertext")
	}
	rep, err := tlog.VerifyBundle(bytes.NewReader(bundle), tlog.BundleCheck{VerifierKey: e.signer.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(bundle, []byte(`"canonical":"`)); n != 1 {
		t.Fatalf("%d events carry their canonical bytes, want only the one not in compact form", n)
	}
	if rep.Events != 7 || !strings.Contains(strings.Join(rep.Lines, "\n"), "inclusion proof") {
		t.Fatalf("report: %d events, %q", rep.Events, rep.Lines)
	}

	// By subject: the application's own stream.
	buf.Reset()
	if sum, err := x.Export(e.ctx, tlog.ExportQuery{Subject: "A2"}, &buf); err != nil || sum.Events != 4 {
		t.Fatalf("subject export: %d events, %v", sum.Events, err)
	}

	// A wrong key, or a key other than the bundle's, fails.
	other, _, _ := tlog.GenerateKey("gantry.test/log")
	otherSigner, _ := tlog.NewSigner(other)
	if _, err := tlog.VerifyBundle(bytes.NewReader(bundle), tlog.BundleCheck{VerifierKey: otherSigner.VerifierKey()}); err == nil {
		t.Fatal("verified with another key")
	}

	// Flip one byte anywhere: in the signature, the checkpoint's text, a tar
	// header, an entry, a proof, a record, end.json, the padding, the end.
	places := map[string]int{
		"checkpoint text": 512 + 3,
		"first header":    10,
		"last byte":       len(bundle) - 1,
	}
	for _, needle := range []string{`"entry":"`, `"proof":["`, `"canonical":"`, `"store_id`, `"events":`, "gantry.test/log+", "\n\n\u2014 "} {
		i := bytes.LastIndex(bundle, []byte(needle))
		if i < 0 {
			t.Fatalf("no %q in the bundle", needle)
		}
		places[needle] = i + len(needle) + 2
	}
	if i := bytes.Index(bundle, []byte("end.json")); i > 0 {
		places["padding before end.json"] = i - 7
	}
	for name, at := range places {
		bad := bytes.Clone(bundle)
		bad[at] ^= 0x01
		if _, err := tlog.VerifyBundle(bytes.NewReader(bad), tlog.BundleCheck{VerifierKey: e.signer.VerifierKey()}); err == nil {
			t.Errorf("a byte flipped in %s (offset %d) went unnoticed", name, at)
		} else {
			var be *tlog.BundleError
			if !errors.As(err, &be) {
				t.Errorf("%s: not a BundleError: %v", name, err)
			}
		}
	}
	if _, err := tlog.VerifyBundle(bytes.NewReader(bundle[:len(bundle)-1024]), tlog.BundleCheck{}); err == nil {
		t.Error("a truncated bundle verified")
	}

	// A later checkpoint: consistent (proof from the log's tiles).
	e.add("application-A4", "S9", "A4", 300)
	later := e.sync()
	note, _ := (tlog.Reader{Pool: e.pool}).Checkpoint(e.ctx)
	rep, err = tlog.VerifyBundle(bytes.NewReader(bundle), tlog.BundleCheck{Later: note, Tiles: readerTiles{e.ctx, tlog.Reader{Pool: e.pool}}})
	if err != nil {
		t.Fatalf("later checkpoint %d: %v", later.Size, err)
	}
	if !strings.Contains(rep.Lines[len(rep.Lines)-1], "prefix") {
		t.Fatalf("report: %q", rep.Lines)
	}
	// Without a way to get the proof it says so.
	if _, err := tlog.VerifyBundle(bytes.NewReader(bundle), tlog.BundleCheck{Later: note}); err == nil || !strings.Contains(err.Error(), "--log") {
		t.Fatalf("no tiles: %v", err)
	}
}

// TestShreddingChangesNoEntryOrProof: erasing a subject (destroying its key)
// leaves its events' bytes, hence the entries, the proofs and the bundle,
// exactly as they were; the log still verifies.
func TestShreddingChangesNoEntryOrProof(t *testing.T) {
	e := newLogEnv(t)
	e.add("application-A1", "S1", "A1", 3)
	e.add("application-A2", "S1", "A2", 2)
	e.sync()
	x := tlog.Exporter{Pool: e.pool, VerifierKey: e.signer.VerifierKey()}
	var before, after bytes.Buffer
	if _, err := x.Export(e.ctx, tlog.ExportQuery{Subject: "A1"}, &before); err != nil {
		t.Fatal(err)
	}
	if err := e.codec.Sealer().Shred(e.ctx, "A1"); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Export(e.ctx, tlog.ExportQuery{Subject: "A1"}, &after); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Fatal("the bundle changed when the subject was erased")
	}
	res, err := tlog.VerifyLog(e.ctx, e.pool, e.signer.VerifierKey(), nil)
	if err != nil || !res.Intact || res.Events != 5 {
		t.Fatalf("after erasure: %v %v", res, err)
	}
}

// TestBundleVerifyPipeline: a bundle of several chunks of event files
// (checked on every core, re-encoded in order) verifies with the right
// count, and an edited byte in the first, a middle or the last chunk is
// reported with its file, without waiting for or hanging on the rest.
func TestBundleVerifyPipeline(t *testing.T) {
	e := newLogEnv(t)
	for s := 0; s < 7; s++ {
		e.add(fmt.Sprintf("application-P%d", s), "S1", fmt.Sprintf("P%d", s), 100)
	}
	e.sync()
	var buf bytes.Buffer
	if _, err := (tlog.Exporter{Pool: e.pool, VerifierKey: e.signer.VerifierKey()}).Export(e.ctx, tlog.ExportQuery{Store: "S1"}, &buf); err != nil {
		t.Fatal(err)
	}
	bundle := buf.Bytes()
	rep, err := tlog.VerifyBundle(bytes.NewReader(bundle), tlog.BundleCheck{VerifierKey: e.signer.VerifierKey()})
	if err != nil || rep.Events != 700 {
		t.Fatalf("verified %d events of 700: %v", rep.Events, err)
	}
	for _, index := range []int{3, 300, 699} {
		name := fmt.Sprintf("events/%020d.json", index)
		at := bytes.Index(bundle, []byte(name))
		if at < 0 {
			t.Fatalf("no %s", name)
		}
		proof := bytes.Index(bundle[at:], []byte(`"proof":["`))
		bad := bytes.Clone(bundle)
		bad[at+proof+12] ^= 0x01
		_, err := tlog.VerifyBundle(bytes.NewReader(bad), tlog.BundleCheck{VerifierKey: e.signer.VerifierKey()})
		var be *tlog.BundleError
		if !errors.As(err, &be) || be.File != name {
			t.Errorf("a byte flipped in %s's proof: %v", name, err)
		}
	}
}

// TestExportFileIsWholeOrAbsent: ExportFile reports progress up to the
// checkpoint's size and renames a complete bundle into place; stopped
// midway (Ctrl-C cancels the context) it leaves no bundle, no temporary
// file, and an older file at the path untouched.
func TestExportFileIsWholeOrAbsent(t *testing.T) {
	e := newLogEnv(t)
	for s := 0; s < 3; s++ {
		e.add(fmt.Sprintf("application-F%d", s), "S1", fmt.Sprintf("F%d", s), 100)
	}
	c := e.sync()
	dir := t.TempDir()
	path := filepath.Join(dir, "bundle.tar")
	var last, total int64
	x := tlog.Exporter{Pool: e.pool, VerifierKey: e.signer.VerifierKey(), Progress: func(scanned, n int64) { last, total = scanned, n }}
	sum, err := x.ExportFile(e.ctx, tlog.ExportQuery{Store: "S1"}, path)
	if err != nil || sum.Events != 300 {
		t.Fatalf("export: %d events, %v", sum.Events, err)
	}
	if last != c.Size || total != c.Size {
		t.Fatalf("progress ended at %d of %d, want %d of %d", last, total, c.Size, c.Size)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tlog.VerifyBundle(f, tlog.BundleCheck{VerifierKey: e.signer.VerifierKey()})
	f.Close()
	if err != nil || rep.Events != 300 {
		t.Fatalf("the written bundle: %d events, %v", rep.Events, err)
	}
	before, _ := os.ReadFile(path)

	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	x.Progress = func(scanned, _ int64) {
		if scanned > 10 {
			cancel() // Ctrl-C after a few events
		}
	}
	if _, err := x.ExportFile(ctx, tlog.ExportQuery{Store: "S1"}, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled export: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("a cancelled export changed the existing bundle")
	}
	fresh := filepath.Join(dir, "fresh.tar")
	if _, err := x.ExportFile(ctx, tlog.ExportQuery{Store: "S1"}, fresh); err == nil {
		t.Fatal("an export with a cancelled context succeeded")
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 || des[0].Name() != "bundle.tar" {
		var names []string
		for _, d := range des {
			names = append(names, d.Name())
		}
		t.Fatalf("left behind: %v", names)
	}
}
