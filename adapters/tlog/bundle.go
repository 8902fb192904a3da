package tlog

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// BundleFormat names the audit-export layout (docs/audit-export.md).
const BundleFormat = "gantry-audit-export/1"

// Names of the bundle's files, in the order they appear.
const (
	fileCheckpoint = "checkpoint"
	fileKey        = "log.vkey"
	fileQuery      = "query.json"
	fileEnd        = "end.json"
	eventPrefix    = "events/"
)

// Redaction says what a bundle shows of personal data.
const Redaction = "sealed: personal values appear only as AES-256-GCM ciphertext under the data subject's key ({\"$sealed\":{subject,nonce,ct}}), never in plaintext"

// ExportQuery selects the events of an audit export. Empty fields do not
// restrict; From is inclusive and To exclusive.
type ExportQuery struct {
	Subject string    `json:"subject,omitempty"`
	Store   string    `json:"store,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
}

// BundleHeader is query.json.
type BundleHeader struct {
	Format    string      `json:"format"`
	Query     ExportQuery `json:"query"`
	Origin    string      `json:"origin"`
	TreeSize  int64       `json:"tree_size"`
	Redaction string      `json:"redaction"`
}

// BundleRecord is an event as a person reads it. Its fields rebuild the
// canonical bytes the entry hashes (eventstore.Canonical of stream,
// version, event ID, type, schema version, data, metadata and recorded
// time, byte for byte as they appear here); where they cannot (stored JSON
// that is not in Go's compact, HTML-escaped form), BundleEvent.Canonical
// carries the bytes, and the record must decode from them.
type BundleRecord struct {
	Stream        string          `json:"stream"`
	Version       int64           `json:"version"`
	EventID       uuid.UUID       `json:"event_id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata"`
	RecordedAt    string          `json:"recorded_at"`
	GlobalCommit  uint64          `json:"global_commit"`
	GlobalPrepare uint64          `json:"global_prepare"`
}

// BundleEvent is events/<index>.json.
type BundleEvent struct {
	Index     int64        `json:"index"`
	Entry     []byte       `json:"entry"`               // the log entry (base64)
	Canonical []byte       `json:"canonical,omitempty"` // eventstore.Canonical bytes (base64), only when Record cannot rebuild them
	Proof     [][]byte     `json:"proof"`               // RFC 6962 inclusion proof against the checkpoint: base64 hashes
	Record    BundleRecord `json:"record"`
}

// BundleEnd is end.json: how many events the bundle holds.
type BundleEnd struct {
	Events int64 `json:"events"`
}

// bundleWriter writes the tar deterministically (USTAR, mode 0644, time 0),
// so a verifier can re-encode what it read and compare every byte.
type bundleWriter struct{ tw *tar.Writer }

func newBundleWriter(w io.Writer) *bundleWriter { return &bundleWriter{tw: tar.NewWriter(w)} }

func (b *bundleWriter) file(name string, data []byte) error {
	if err := b.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644,
		ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

func (b *bundleWriter) json(name string, v any) error {
	data, err := marshalLine(v)
	if err != nil {
		return err
	}
	return b.file(name, data)
}

func (b *bundleWriter) close() error { return b.tw.Close() }

func marshalLine(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// proofBytes and recordProof convert between x/mod's proof and the
// bundle's list of 32-byte hashes (the same base64 strings in JSON).
func proofBytes(p tlog.RecordProof) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

func recordProof(p [][]byte) (tlog.RecordProof, error) {
	out := make(tlog.RecordProof, len(p))
	for i, h := range p {
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("proof hash %d is %d bytes, want %d", i, len(h), tlog.HashSize)
		}
		copy(out[i][:], h)
	}
	return out, nil
}

func eventFileName(index int64) string { return fmt.Sprintf("%s%020d.json", eventPrefix, index) }

// recordOf is the readable view of a recorded event.
func recordOf(e es.RecordedEvent) BundleRecord {
	return BundleRecord{Stream: e.StreamID, Version: e.Version, EventID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion,
		Data: compact(e.Data), Metadata: compact(e.RawMetadata), RecordedAt: es.TruncateTime(e.RecordedAt).Format(time.RFC3339Nano),
		GlobalCommit: e.Position.Commit, GlobalPrepare: e.Position.Prepare}
}

// canonicalOfRecord rebuilds the canonical bytes from a record as read
// from a bundle.
func canonicalOfRecord(r BundleRecord) ([]byte, error) {
	at, err := time.Parse(time.RFC3339Nano, r.RecordedAt)
	if err != nil {
		return nil, fmt.Errorf("recorded_at: %v", err)
	}
	return es.Canonical(r.Stream, r.Version, r.EventID, r.Type, r.SchemaVersion, r.Data, r.Metadata, at), nil
}

// rebuildable reports whether JSON b comes back from a bundle byte for byte
// (encoding/json writes a RawMessage compacted, with <, >, &, U+2028 and
// U+2029 escaped).
func rebuildable(b []byte) bool {
	return bytes.Equal(compact(b), b) && !bytes.ContainsAny(b, "<>&\u2028\u2029")
}

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return json.RawMessage(`null`)
	}
	return buf.Bytes()
}
