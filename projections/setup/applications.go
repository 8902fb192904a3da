// Package setup holds the read models of the setup area. Each projector is a
// pure function of the event log. Personal data rests in a view only sealed
// under the data subject's key (the consent's parties), or not at all (the
// applications view): erasure is the key's destruction, never an UPDATE
// that would leave plaintext in dead tuples, WAL and backups.
package setup

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ApplicationsName is durable: it is the checkpoint key and schema
// (proj_setup_applications). Renaming it rebuilds the view from scratch.
const ApplicationsName = "setup_applications"

// Applications is the view of applications awaiting reception (with their
// 60-day deadline) and received ones (valid until completion + 5 years).
// It holds no personal data: no reader needs the applicant's name or
// e-mail address, so the view does not copy them. The deadline and retain_until columns are no rule:
// Reader computes both from completed_at with the domain's functions, and
// the scheduled jobs find candidates by completed_at (an existing table
// keeps the NOT NULL columns, so they are still written).
type Applications struct{}

func (Applications) Name() string { return ApplicationsName }

// EventTypes implements projections.Selective.
func (Applications) EventTypes() []string {
	return projections.TypesOf(application.Completed{}, application.FiledByProxy{}, application.Received{}, application.ReceptionLocked{}, application.ReceptionUnlocked{}, application.Expired{}, application.RetentionEnded{})
}

func (Applications) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS applications (
		application_id  text PRIMARY KEY,
		status          text NOT NULL,
		by_proxy        boolean NOT NULL,
		filing_store    text,
		consent_id      text,
		units           int NOT NULL,
		completed_at    timestamptz NOT NULL,
		deadline        timestamptz NOT NULL,
		retain_until    timestamptz NOT NULL,
		received_at     timestamptz,
		receiving_store text,
		locked          boolean NOT NULL DEFAULT false,
		ended_at        timestamptz)`)
	if err != nil {
		return err
	}
	// The store named by the QR link of a web application (issue 12);
	// added to a view built before it: older events name none.
	_, err = tx.Exec(ctx, `ALTER TABLE applications ADD COLUMN IF NOT EXISTS applied_store text`)
	return err
}

func (Applications) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	const ins = `INSERT INTO applications (application_id, status, by_proxy, filing_store, consent_id, units, completed_at, deadline, retain_until, applied_store)
		VALUES ($1, 'completed', $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (application_id) DO NOTHING`
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.Completed:
			var store *string
			if e.StoreID != "" {
				store = &e.StoreID
			}
			b.Queue(ins, e.ApplicationID.String(), false, nil, nil, e.Units, e.CompletedAt,
				e.CompletedAt.Add(application.ReceptionPeriod), e.CompletedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0), store)
		case application.FiledByProxy:
			b.Queue(ins, e.ApplicationID.String(), true, e.StoreID, e.ConsentID, e.Units, e.CompletedAt,
				e.CompletedAt.Add(application.ReceptionPeriod), e.CompletedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0), nil)
		case application.Received:
			b.Queue(`UPDATE applications SET status='received', received_at=$2, receiving_store=$3, locked=false WHERE application_id=$1`, e.ApplicationID.String(), e.ReceivedAt, e.StoreID)
		case application.ReceptionLocked:
			b.Queue(`UPDATE applications SET locked=true WHERE application_id=$1`, e.ApplicationID.String())
		case application.ReceptionUnlocked:
			b.Queue(`UPDATE applications SET locked=false WHERE application_id=$1`, e.ApplicationID.String())
		case application.Expired:
			b.Queue(`UPDATE applications SET status='expired', ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.ExpiredAt)
		case application.RetentionEnded:
			b.Queue(`UPDATE applications SET status='retention_ended', ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.EndedAt)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
