package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// CheckpointTopic carries the transparency log's signed checkpoints, for
// witnesses outside the database. Durable: renaming it strands witnesses.
// A message's payload is CheckpointMessage: the signed note (C2SP
// tlog-checkpoint) exactly as served at /v1/log/checkpoint, and its size.
const CheckpointTopic = "gantry_checkpoints"

// CheckpointMessage is a checkpoint message's JSON payload.
type CheckpointMessage struct {
	TreeSize   int64  `json:"tree_size"`
	Checkpoint string `json:"checkpoint"` // the signed note
}

// checkpointNamespace makes checkpoint message IDs: UUIDv5 of the note.
var checkpointNamespace = uuid.MustParse("0b0f3b7e-8a55-4c1c-9d0e-6a7c1f4f2d21")

// PublishCheckpoint publishes a signed checkpoint: on the SQL backend in tx
// (the message exists if and only if the checkpoint row commits), on NATS
// before tx commits, with a stable message ID so a repeat is dropped.
func (b *Bus) PublishCheckpoint(ctx context.Context, tx pgx.Tx, size int64, note []byte) error {
	payload, err := json.Marshal(CheckpointMessage{TreeSize: size, Checkpoint: string(note)})
	if err != nil {
		return err
	}
	m := message.NewMessage(uuid.NewSHA1(checkpointNamespace, note).String(), payload)
	m.Metadata.Set("tree_size", strconv.FormatInt(size, 10))
	if b.nats != nil {
		p, err := b.nats.publisher()
		if err != nil {
			return fmt.Errorf("%w: bus: NATS publisher: %v", es.ErrUnavailable, err)
		}
		return p.Publish(CheckpointTopic, m)
	}
	// The topic's tables exist after the first checkpoint: creating them
	// again (a dozen DDL statements, share locks on every topic's tables)
	// in every signing transaction would keep it open, and the log's
	// readable horizon back, for no reason.
	var ready bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('"bus"."watermill_`+CheckpointTopic+`"') IS NOT NULL`).Scan(&ready); err != nil {
		return err
	}
	if !ready {
		if err := b.initSchema(ctx, tx); err != nil {
			return err
		}
	}
	pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: sqlSchema()}, b.logger)
	if err != nil {
		return err
	}
	return pub.Publish(CheckpointTopic, m)
}
