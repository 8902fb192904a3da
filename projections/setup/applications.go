// Package setup holds the read models of the setup area. Each projector is a
// pure function of the event log; personal data in its rows is removed when
// the application (or consent) expires or its retention ends.
package setup

import (
	"context"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ApplicationsName is durable: it is the checkpoint key and schema
// (proj_setup_applications). Renaming it rebuilds the view from scratch.
const ApplicationsName = "setup_applications"

// Applications is the view of applications awaiting reception (with their
// 60-day deadline) and received ones (valid until completion + 5 years).
// applicant_name/applicant_email are personal: cleared on expiry and at the
// end of retention. The deadline and retain_until columns are no rule:
// Reader computes both from completed_at with the domain's functions, and
// the scheduled jobs find candidates by completed_at (an existing table
// keeps the NOT NULL columns, so they are still written).
type Applications struct{}

func (Applications) Name() string { return ApplicationsName }

func (Applications) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS applications (
		application_id  text PRIMARY KEY,
		status          text NOT NULL,
		by_proxy        boolean NOT NULL,
		filing_store    text,
		consent_id      text,
		applicant_name  text,
		applicant_email text,
		units           int NOT NULL,
		completed_at    timestamptz NOT NULL,
		deadline        timestamptz NOT NULL,
		retain_until    timestamptz NOT NULL,
		received_at     timestamptz,
		receiving_store text,
		locked          boolean NOT NULL DEFAULT false,
		ended_at        timestamptz)`)
	return err
}

func applicantName(d domain.Personal[application.Details]) (name, email *string) {
	if d.Erased {
		return nil, nil
	}
	n, e := d.Value.Applicant.Name, d.Value.Applicant.Email
	if d.Value.Applicant.CorporationName != "" {
		n = d.Value.Applicant.CorporationName + " " + n
	}
	return &n, &e
}

func (Applications) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	const ins = `INSERT INTO applications (application_id, status, by_proxy, filing_store, consent_id, applicant_name, applicant_email, units, completed_at, deadline, retain_until)
		VALUES ($1, 'completed', $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (application_id) DO NOTHING`
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.Completed:
			n, m := applicantName(e.Details)
			b.Queue(ins, e.ApplicationID.String(), false, nil, nil, n, m, e.Units, e.CompletedAt,
				e.CompletedAt.Add(application.ReceptionPeriod), e.CompletedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.FiledByProxy:
			n, m := applicantName(e.Details)
			b.Queue(ins, e.ApplicationID.String(), true, e.StoreID, e.ConsentID, n, m, e.Units, e.CompletedAt,
				e.CompletedAt.Add(application.ReceptionPeriod), e.CompletedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.Received:
			b.Queue(`UPDATE applications SET status='received', received_at=$2, receiving_store=$3, locked=false WHERE application_id=$1`, e.ApplicationID.String(), e.ReceivedAt, e.StoreID)
		case application.ReceptionLocked:
			b.Queue(`UPDATE applications SET locked=true WHERE application_id=$1`, e.ApplicationID.String())
		case application.ReceptionUnlocked:
			b.Queue(`UPDATE applications SET locked=false WHERE application_id=$1`, e.ApplicationID.String())
		case application.Expired:
			b.Queue(`UPDATE applications SET status='expired', applicant_name=NULL, applicant_email=NULL, ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.ExpiredAt)
		case application.RetentionEnded:
			b.Queue(`UPDATE applications SET status='retention_ended', applicant_name=NULL, applicant_email=NULL, ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.EndedAt)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
