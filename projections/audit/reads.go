package audit

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/audit"
)

// ReadsName is durable (checkpoint key, schema proj_audit_reads).
const ReadsName = "audit_reads"

// Reads lists the recorded audit reads (who read which history, when, why).
type Reads struct{}

func (Reads) Name() string { return ReadsName }

// EventTypes implements projections.Selective.
func (Reads) EventTypes() []string {
	return projections.TypesOf(audit.ReadRecorded{})
}

func (Reads) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS reads (
		n           bigserial   PRIMARY KEY,
		read_id     text        NOT NULL UNIQUE,
		at          timestamptz NOT NULL,
		reader_id   text        NOT NULL,
		reader_role text        NOT NULL,
		query       text        NOT NULL,
		target      text        NOT NULL,
		params      jsonb       NOT NULL,
		reason      text        NOT NULL,
		stream      text        NOT NULL,
		version     bigint      NOT NULL);
	CREATE INDEX IF NOT EXISTS reads_at ON reads (at)`)
	return err
}

func (Reads) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		e, ok := ev.Payload.(audit.ReadRecorded)
		if !ok {
			continue
		}
		params, err := json.Marshal(e.Params)
		if err != nil {
			return err
		}
		if e.Params == nil {
			params = []byte("{}")
		}
		b.Queue(`INSERT INTO reads (read_id, at, reader_id, reader_role, query, target, params, reason, stream, version)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING`,
			e.ReadID, e.At, e.ReaderID, e.ReaderRole, e.Query, e.Target, string(params), e.Reason, ev.StreamID, ev.Version)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
