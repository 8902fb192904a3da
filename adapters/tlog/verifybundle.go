package tlog

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// BundleCheck says how to check a bundle.
type BundleCheck struct {
	// VerifierKey is the log's key as the checker knows it independently
	// (e.g. from /v1/log/key, fetched before). Empty: the key in the bundle
	// is used, which proves the bundle self-consistent, not that it comes
	// from the log the checker trusts.
	VerifierKey string
	// Later is a later signed checkpoint (e.g. kept by a witness); the
	// bundle's checkpoint must be a prefix of it. A larger tree needs a
	// consistency proof, read from the log's tiles at LogURL.
	Later  []byte
	LogURL string
	Tiles  tlog.TileReader // instead of LogURL (tests)
}

// BundleReport is what was verified.
type BundleReport struct {
	Checkpoint Checkpoint
	Events     int64
	Lines      []string
}

// BundleError is a failed check: which file of the bundle and why.
type BundleError struct {
	File string
	Err  error
}

func (e *BundleError) Error() string {
	if e.File == "" {
		return "bundle: " + e.Err.Error()
	}
	return "bundle file " + e.File + ": " + e.Err.Error()
}

func (e *BundleError) Unwrap() error { return e.Err }

const maxBundleFile = 16 << 20

// VerifyBundle checks an audit-export bundle offline (docs/audit-export.md):
// the checkpoint's signature, every entry's inclusion proof against it,
// every canonical record against its entry, the count, that every byte of
// the tar is the canonical encoding of what was checked (so no byte can
// change unnoticed), and, when given, consistency with a later checkpoint.
func VerifyBundle(r io.Reader, chk BundleCheck) (BundleReport, error) {
	var rep BundleReport
	orig, again := sha256.New(), sha256.New()
	in := io.TeeReader(bufio.NewReaderSize(r, 1<<20), orig)
	tr := tar.NewReader(in)
	bw := newBundleWriter(again)
	fail := func(file string, format string, a ...any) (BundleReport, error) {
		return rep, &BundleError{File: file, Err: fmt.Errorf(format, a...)}
	}
	next := func(want string) (string, []byte, error) {
		h, err := tr.Next()
		if err == io.EOF {
			return "", nil, &BundleError{Err: fmt.Errorf("ends before %s", want)}
		}
		if err != nil {
			return "", nil, &BundleError{Err: fmt.Errorf("not a readable tar (%v)", err)}
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxBundleFile {
			return "", nil, &BundleError{File: h.Name, Err: errors.New("not a regular file of a sane size")}
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return "", nil, &BundleError{File: h.Name, Err: err}
		}
		return h.Name, data, nil
	}
	strict := func(data []byte, v any) error {
		d := json.NewDecoder(bytes.NewReader(data))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return err
		}
		if d.More() {
			return errors.New("trailing data")
		}
		return nil
	}

	name, note, err := next(fileCheckpoint)
	if err != nil {
		return rep, err
	}
	if name != fileCheckpoint {
		return fail(name, "expected %s first", fileCheckpoint)
	}
	_ = bw.file(fileCheckpoint, note)
	name, keyLine, err := next(fileKey)
	if err != nil {
		return rep, err
	}
	if name != fileKey {
		return fail(name, "expected %s", fileKey)
	}
	_ = bw.file(fileKey, keyLine)
	bundleKey := strings.TrimSuffix(string(keyLine), "\n")
	vkey, keySource := chk.VerifierKey, "the key given (--vkey)"
	if vkey == "" {
		vkey, keySource = bundleKey, "the key inside the bundle (NOT independently trusted: compare it with the log's published key, or pass --vkey)"
	} else if vkey != bundleKey {
		return fail(fileKey, "the bundle's key %q is not the key given %q", bundleKey, vkey)
	}
	c, err := OpenCheckpoint(note, vkey)
	if err != nil {
		return fail(fileCheckpoint, "%v", err)
	}
	rep.Checkpoint = c
	rep.Lines = append(rep.Lines, fmt.Sprintf("checkpoint: signature verified with %s: %s", keySource, vkey),
		fmt.Sprintf("checkpoint: log %s, tree size %d, root %s", c.Origin, c.Size, c.Root))

	name, data, err := next(fileQuery)
	if err != nil {
		return rep, err
	}
	var hdr BundleHeader
	if name != fileQuery {
		return fail(name, "expected %s", fileQuery)
	}
	if err := strict(data, &hdr); err != nil {
		return fail(name, "%v", err)
	}
	if hdr.Format != BundleFormat || hdr.TreeSize != c.Size || hdr.Origin != c.Origin {
		return fail(name, "format, origin or tree size differ from the checkpoint's")
	}
	_ = bw.json(fileQuery, hdr)

	// Event files stream through a pipeline: this goroutine's reader reads
	// them in order into chunks, workers on every core check the chunks,
	// and the chunks are re-encoded here in order. No stage waits for a
	// whole batch of another, so reading the tar, checking proofs and
	// re-encoding overlap.
	stop := make(chan struct{})
	defer close(stop)
	order, endc := readEventChunks(stop, func() (string, []byte, error) { return next(fileEnd) }, func() error {
		if _, err := tr.Next(); err != io.EOF {
			return &BundleError{Err: fmt.Errorf("data after %s", fileEnd)}
		}
		_, err := io.Copy(io.Discard, in)
		return err
	}, c)
	last := int64(-1)
	for ch := range order {
		<-ch.done
		for _, f := range ch.files {
			if f.err != nil {
				return rep, &BundleError{File: f.name, Err: f.err}
			}
			if f.name != eventFileName(f.index) || f.index <= last || f.index >= c.Size {
				return rep, &BundleError{File: f.name, Err: fmt.Errorf("index %d is out of order or outside the tree of %d entries", f.index, c.Size)}
			}
			last = f.index
			// The file must be exactly the encoding of the checked entry,
			// proof and the record decoded from the canonical bytes: the
			// byte comparison at the end sees to that.
			_ = bw.file(f.name, f.want)
			rep.Events++
		}
	}
	end := <-endc
	if end.err != nil {
		return rep, end.err
	}
	var endFile BundleEnd
	if err := strict(end.data, &endFile); err != nil {
		return fail(fileEnd, "%v", err)
	}
	if endFile.Events != rep.Events {
		return fail(fileEnd, "says %d events, the bundle has %d", endFile.Events, rep.Events)
	}
	_ = bw.json(fileEnd, endFile)
	_ = bw.close()
	if !bytes.Equal(orig.Sum(nil), again.Sum(nil)) {
		return fail("", "the tar's bytes are not the canonical encoding of its verified content (an edited byte in a header, a padding block, a JSON file's form, or a readable record that is not its canonical record)")
	}
	rep.Lines = append(rep.Lines,
		fmt.Sprintf("events: %d; for each, the RFC 6962 inclusion proof of its entry checks against the checkpoint's root", rep.Events),
		"events: each canonical record hashes (SHA-256) to the hash in its entry, and the entry's stream, version, event ID, type, schema version and recorded time are the record's",
		"events: indexes strictly increase; end.json's count matches",
		"bundle: every byte of the tar is the canonical encoding of the content above, each readable record being exactly its canonical record decoded")
	if chk.Later != nil {
		line, err := checkLater(c, vkey, chk)
		if err != nil {
			return fail("", "later checkpoint: %v", err)
		}
		rep.Lines = append(rep.Lines, line)
	}
	return rep, nil
}

// eventFile is one events/*.json file: read, then checked.
type eventFile struct {
	name  string
	data  []byte
	index int64
	want  []byte // its canonical encoding
	err   error
}

// eventChunk is a run of event files, checked together by one worker.
type eventChunk struct {
	files []eventFile
	done  chan struct{} // closed when every file is checked
}

// chunkEnd is how the reading ended: end.json's bytes, or an error.
type chunkEnd struct {
	data []byte
	err  error
}

const chunkFiles = 256

// readEventChunks reads event files with next until end.json, in chunks,
// then runs after; it returns the chunks in order (each checked by a
// worker on one of every core) and then how it ended. Closing stop ends
// every goroutine it started.
func readEventChunks(stop <-chan struct{}, next func() (string, []byte, error), after func() error, c Checkpoint) (<-chan *eventChunk, <-chan chunkEnd) {
	workers := runtime.GOMAXPROCS(0)
	order := make(chan *eventChunk, 2*workers)
	work := make(chan *eventChunk, 2*workers)
	endc := make(chan chunkEnd, 1)
	for w := 0; w < workers; w++ {
		go func() {
			for ch := range work {
				checkEvents(ch.files, c)
				close(ch.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		cur := &eventChunk{done: make(chan struct{})}
		send := func() bool {
			for _, q := range []chan *eventChunk{order, work} {
				select {
				case q <- cur:
				case <-stop:
					return false
				}
			}
			cur = &eventChunk{done: make(chan struct{})}
			return true
		}
		for {
			select {
			case <-stop: // the verifier has failed and returned: read no further
				return
			default:
			}
			name, data, err := next()
			if err != nil {
				if len(cur.files) > 0 && !send() {
					return
				}
				endc <- chunkEnd{err: err}
				return
			}
			if name == fileEnd {
				if len(cur.files) > 0 && !send() {
					return
				}
				endc <- chunkEnd{data: data, err: after()}
				return
			}
			cur.files = append(cur.files, eventFile{name: name, data: data})
			if len(cur.files) == chunkFiles && !send() {
				return
			}
		}
	}()
	return order, endc
}

// checkEvents decodes and checks files.
func checkEvents(files []eventFile, c Checkpoint) {
	for i := range files {
		f := &files[i]
		var ev BundleEvent
		// Unknown fields or trailing bytes need no check here: the file is
		// compared byte for byte with its re-encoding.
		if f.err = json.Unmarshal(f.data, &ev); f.err != nil {
			continue
		}
		f.data = nil
		f.index = ev.Index
		want, err := checkEvent(ev, c)
		if f.err = err; err != nil {
			continue
		}
		f.want, f.err = marshalLine(want)
	}
}

// checkEvent checks one event file and returns what it must be: the same
// with the record decoded from the canonical bytes.
func checkEvent(ev BundleEvent, c Checkpoint) (BundleEvent, error) {
	e, err := ParseEntry(ev.Entry)
	if err != nil {
		return ev, err
	}
	canonical := ev.Canonical
	if len(canonical) == 0 {
		if canonical, err = canonicalOfRecord(ev.Record); err != nil {
			return ev, fmt.Errorf("entry %d: %v", ev.Index, err)
		}
	}
	rec, err := parseCanonical(canonical)
	if err != nil {
		return ev, err
	}
	if sha256.Sum256(canonical) != e.CanonicalHash {
		return ev, fmt.Errorf("entry %d: the canonical record does not hash to the entry's SHA-256", ev.Index)
	}
	if e.Stream != rec.StreamID || e.Version != rec.Version || e.EventID != rec.ID || e.Type != rec.Type ||
		e.SchemaVersion != rec.SchemaVersion || !e.RecordedAt.Equal(rec.RecordedAt) {
		return ev, fmt.Errorf("entry %d: its fields are not the canonical record's", ev.Index)
	}
	proof, err := recordProof(ev.Proof)
	if err != nil {
		return ev, fmt.Errorf("entry %d: %v", ev.Index, err)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, ev.Index, tlog.RecordHash(ev.Entry)); err != nil {
		return ev, fmt.Errorf("entry %d (%s): inclusion proof: %v", ev.Index, e.Place(), err)
	}
	rec.Position.Commit, rec.Position.Prepare = e.Commit, e.Prepare
	want := ev
	want.Record = recordOf(rec)
	return want, nil
}

func checkLater(c Checkpoint, vkey string, chk BundleCheck) (string, error) {
	l, err := OpenCheckpoint(chk.Later, vkey)
	if err != nil {
		return "", err
	}
	switch {
	case l.Size < c.Size:
		return "", fmt.Errorf("its tree (%d) is smaller than the bundle's (%d)", l.Size, c.Size)
	case l.Size == c.Size:
		if l.Root != c.Root {
			return "", fmt.Errorf("same size %d, different root: the log forked", l.Size)
		}
		return fmt.Sprintf("later checkpoint: same tree (size %d, same root)", l.Size), nil
	}
	tiles := chk.Tiles
	if tiles == nil {
		if chk.LogURL == "" {
			return "", errors.New("a consistency proof between different sizes needs the log's tiles: give --log URL")
		}
		tiles = &HTTPTiles{URL: chk.LogURL}
	}
	hr := tlog.TileHashReader(tlog.Tree{N: l.Size, Hash: l.Root}, tiles)
	proof, err := tlog.ProveTree(l.Size, c.Size, hr)
	if err != nil {
		return "", fmt.Errorf("reading the consistency proof: %v", err)
	}
	if err := tlog.CheckTree(proof, l.Size, l.Root, c.Size, c.Root); err != nil {
		return "", fmt.Errorf("NOT consistent: %v", err)
	}
	return fmt.Sprintf("later checkpoint: size %d, signature verified; the bundle's tree (size %d) is a prefix of it (RFC 6962 consistency proof from the log's tiles, each tile checked against the later root)", l.Size, c.Size), nil
}
