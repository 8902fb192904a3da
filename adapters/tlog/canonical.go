package tlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// parseCanonical reads the fields back from eventstore.Canonical bytes and
// checks that encoding them again gives the same bytes, so the parse is
// exactly the inverse of the encoding.
func parseCanonical(b []byte) (es.RecordedEvent, error) {
	bad := errors.New("tlog: canonical record is malformed")
	r := reader{b: b}
	lp := func() []byte { return r.bytes(int(binary.BigEndian.Uint32(r.bytes(4)))) }
	var e es.RecordedEvent
	lp() // tag, checked by the re-encoding
	e.StreamID = string(lp())
	e.Version = int64(r.u64())
	id := lp()
	if len(id) != 16 {
		return e, bad
	}
	e.ID = uuid.UUID(id)
	e.Type = string(lp())
	e.SchemaVersion = int(r.u32())
	e.Data = bytes.Clone(lp())
	e.RawMetadata = bytes.Clone(lp())
	at := string(lp())
	if r.bad || len(r.b) != 0 {
		return e, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return e, fmt.Errorf("%w: recorded time: %v", bad, err)
	}
	e.RecordedAt = t
	if !bytes.Equal(es.CanonicalOf(e), b) {
		return e, fmt.Errorf("%w: not in canonical form", bad)
	}
	return e, nil
}

func canonicalOf(e es.RecordedEvent) []byte { return es.CanonicalOf(e) }
