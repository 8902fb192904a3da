package tlog

import (
	"strconv"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// eventColumns are the events columns scanEvent reads, qualified by alias e.
// Data and metadata are read as text: exactly the stored (hashed) bytes.
const eventColumns = `e.event_id, e.stream_id, e.version, e.transaction_id::text, e.position, e.type, e.schema_version,
	e.data::text, e.metadata::text, e.recorded_at`

// scanEvent reads eventColumns (after `pre` destinations) into a recorded
// event; Metadata stays undecoded (RawMetadata is what is hashed).
func scanEvent(rows pgx.Rows, pre ...any) (es.RecordedEvent, error) {
	var (
		e          es.RecordedEvent
		tx         string
		pos        int64
		data, meta string
	)
	dest := append(pre, &e.ID, &e.StreamID, &e.Version, &tx, &pos, &e.Type, &e.SchemaVersion, &data, &meta, &e.RecordedAt)
	if err := rows.Scan(dest...); err != nil {
		return e, err
	}
	commit, _ := strconv.ParseUint(tx, 10, 64)
	e.Position = es.Position{Commit: commit, Prepare: uint64(pos)}
	e.Data, e.RawMetadata = []byte(data), []byte(meta)
	return e, nil
}
