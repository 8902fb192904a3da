package setup

import (
	"context"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/setup"
)

// SetupsName is durable (checkpoint key, schema proj_setup_setups).
const SetupsName = "setup_setups"

// Setups is the view of setups by status per store. No personal data.
type Setups struct{}

func (Setups) Name() string { return SetupsName }

// EventTypes implements projections.Selective: every setup event (each
// moves last_event).
func (Setups) EventTypes() []string { return setup.EventTypes() }

// ReadsNoPersonalData implements projections.Impersonal: the view keeps
// IDs, statuses and times only, never the visitor, plate or OBU number.
func (Setups) ReadsNoPersonalData() {}

func (Setups) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS setups (
		setup_id       text PRIMARY KEY,
		application_id text NOT NULL,
		store_id       text NOT NULL,
		status         text NOT NULL,
		last_event     text NOT NULL,
		started_at     timestamptz NOT NULL,
		updated_at     timestamptz NOT NULL);
	CREATE INDEX IF NOT EXISTS setups_store ON setups (store_id, status)`)
	return err
}

func (Setups) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case setup.Started:
			b.Queue(`INSERT INTO setups VALUES ($1,$2,$3,'in_progress',$4,$5,$5) ON CONFLICT DO NOTHING`, e.SetupID, e.ApplicationID, e.StoreID, ev.Type, e.At)
		case setup.IdentityChecked:
			st := "in_progress"
			if !e.Passed {
				st = "halted"
			}
			b.Queue(`UPDATE setups SET status=$2, last_event=$3, updated_at=$4 WHERE setup_id=$1`, e.SetupID, st, ev.Type, e.At)
		case setup.CompletionNotified:
			b.Queue(`UPDATE setups SET status='completed', last_event=$2, updated_at=$3 WHERE setup_id=$1`, e.SetupID, ev.Type, e.At)
		default:
			if len(ev.Type) > 6 && ev.Type[:6] == "setup." {
				b.Queue(`UPDATE setups SET last_event=$2, updated_at=$3 WHERE setup_id=substr($1, 7)`, ev.StreamID, ev.Type, ev.RecordedAt)
			}
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
