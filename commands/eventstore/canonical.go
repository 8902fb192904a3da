package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// canonicalTag versions the canonical encoding below; changing the encoding
// means a new tag and a verifier that knows both.
const canonicalTag = "gantry.event.v1"

// Canonical returns the bytes of an event that its hash covers: every stored
// field but the global position (which the store assigns at commit), each
// length-prefixed so no two events share an encoding. Times are in UTC with
// microsecond precision (what PostgreSQL keeps).
func Canonical(stream string, version int64, id uuid.UUID, typ string, schema int, data, metadata []byte, recorded time.Time) []byte {
	b := make([]byte, 0, 96+len(stream)+len(typ)+len(data)+len(metadata))
	lp := func(s []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	lp([]byte(canonicalTag))
	lp([]byte(stream))
	b = binary.BigEndian.AppendUint64(b, uint64(version))
	lp(id[:])
	lp([]byte(typ))
	b = binary.BigEndian.AppendUint32(b, uint32(schema))
	lp(data)
	lp(metadata)
	lp([]byte(recorded.UTC().Format(time.RFC3339Nano)))
	return b
}

// ChainHash is SHA-256(prev ‖ canonical).
func ChainHash(prev, canonical []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(nil)
}

// CanonicalOf is Canonical for a recorded event.
func CanonicalOf(e RecordedEvent) []byte {
	return Canonical(e.StreamID, e.Version, e.ID, e.Type, e.SchemaVersion, e.Data, e.RawMetadata, e.RecordedAt)
}

// TruncateTime rounds t down to what the store keeps (microseconds, UTC).
func TruncateTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
