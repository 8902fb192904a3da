// Package tlog is Gantry's transparency log: every committed event becomes,
// in global order, one entry of an append-only RFC 6962 Merkle tree, served
// as a C2SP tlog-tiles log with C2SP tlog-checkpoint signed notes.
//
// The Merkle math is golang.org/x/mod/sumdb/tlog (stored hashes, tiles,
// inclusion and consistency proofs) and the signatures are
// golang.org/x/mod/sumdb/note (Ed25519). This package stores the tree in
// PostgreSQL (tables tlog_entries, with the tree hashes each entry
// completes, and tlog_checkpoints), builds it
// with a sequencer that runs as a projector, signs checkpoints, writes them
// outside the database, rebuilds the tree from the events to verify it, and
// writes and checks audit-export bundles. docs/transparency-log.md and
// docs/audit-export.md are the formats' specifications.
package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// EntryVersion is the first byte of every entry: the layout below. A new
// layout gets a new number; verifiers reject numbers they do not know.
const EntryVersion = 1

// Entry is what the log commits to for one event (docs/transparency-log.md).
type Entry struct {
	Commit        uint64    // global position: the writing transaction (xid8)
	Prepare       uint64    // global position: the event's sequence number
	Stream        string    // stream ID
	Version       int64     // version in the stream (1 for the first event)
	EventID       uuid.UUID // the event's UUIDv7
	Type          string    // event type
	SchemaVersion int       // schema version of the stored data
	RecordedAt    time.Time // recorded time, microseconds, UTC
	CanonicalHash [32]byte  // SHA-256 of eventstore.Canonical of the event
}

// maxText bounds the stream and type fields so an entry always fits the
// uint16 length prefix of an entry bundle.
const maxText = 4096

// EntryOf returns the entry of a recorded event.
func EntryOf(e es.RecordedEvent) Entry {
	return Entry{
		Commit: e.Position.Commit, Prepare: e.Position.Prepare,
		Stream: e.StreamID, Version: e.Version, EventID: e.ID, Type: e.Type,
		SchemaVersion: e.SchemaVersion, RecordedAt: es.TruncateTime(e.RecordedAt),
		CanonicalHash: sha256.Sum256(es.CanonicalOf(e)),
	}
}

// Marshal encodes the entry (big-endian):
//
//	u8 version (1) ‖ u64 commit ‖ u64 prepare ‖ u16 len ‖ stream ‖ u64 version ‖
//	16-byte event ID ‖ u16 len ‖ type ‖ u32 schema version ‖
//	i64 recorded time (µs since 1970-01-01T00:00:00Z) ‖ 32-byte SHA-256(canonical)
func (e Entry) Marshal() ([]byte, error) {
	if len(e.Stream) > maxText || len(e.Type) > maxText {
		return nil, fmt.Errorf("tlog: stream or type of %s@%d longer than %d bytes", e.Stream, e.Version, maxText)
	}
	b := make([]byte, 0, 1+8+8+2+len(e.Stream)+8+16+2+len(e.Type)+4+8+32)
	b = append(b, EntryVersion)
	b = binary.BigEndian.AppendUint64(b, e.Commit)
	b = binary.BigEndian.AppendUint64(b, e.Prepare)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Stream)))
	b = append(b, e.Stream...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Version))
	b = append(b, e.EventID[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Type)))
	b = append(b, e.Type...)
	b = binary.BigEndian.AppendUint32(b, uint32(e.SchemaVersion))
	b = binary.BigEndian.AppendUint64(b, uint64(e.RecordedAt.UnixMicro()))
	b = append(b, e.CanonicalHash[:]...)
	return b, nil
}

// ErrMalformedEntry: the bytes are not an entry of a known layout.
var ErrMalformedEntry = errors.New("tlog: malformed entry")

// ParseEntry decodes what Marshal wrote; trailing or missing bytes are an
// error, so an entry has exactly one encoding.
func ParseEntry(b []byte) (Entry, error) {
	r := reader{b: b}
	var e Entry
	if r.u8() != EntryVersion {
		return Entry{}, fmt.Errorf("%w: unknown layout version", ErrMalformedEntry)
	}
	e.Commit = r.u64()
	e.Prepare = r.u64()
	e.Stream = string(r.bytes(int(r.u16())))
	e.Version = int64(r.u64())
	copy(e.EventID[:], r.bytes(16))
	e.Type = string(r.bytes(int(r.u16())))
	e.SchemaVersion = int(r.u32())
	e.RecordedAt = time.UnixMicro(int64(r.u64())).UTC()
	copy(e.CanonicalHash[:], r.bytes(32))
	if r.bad || len(r.b) != 0 {
		return Entry{}, fmt.Errorf("%w: wrong length", ErrMalformedEntry)
	}
	if again, _ := e.Marshal(); !bytes.Equal(again, b) {
		return Entry{}, fmt.Errorf("%w: not in canonical form", ErrMalformedEntry)
	}
	return e, nil
}

// Place names an entry for people: "stream@version (event ID)".
func (e Entry) Place() string {
	return fmt.Sprintf("stream %q version %d (event %s)", e.Stream, e.Version, e.EventID)
}

type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || len(r.b) < n {
		r.bad = true
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte    { return r.bytes(1)[0] }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.bytes(2)) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.bytes(4)) }
func (r *reader) u64() uint64 { return binary.BigEndian.Uint64(r.bytes(8)) }
