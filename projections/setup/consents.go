package setup

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ConsentsName is durable (checkpoint key, schema proj_setup_consents).
const ConsentsName = "setup_consents"

// Consents is the 5-year history of proxy consents (委任状), searchable by
// store, applicant and date. Applicant fields are personal: cleared when the
// consent's retention ends.
type Consents struct{}

func (Consents) Name() string { return ConsentsName }

// EventTypes implements projections.Selective.
func (Consents) EventTypes() []string {
	return projections.TypesOf(application.ConsentRecorded{}, application.ConsentUnitUsed{}, application.ConsentRetentionEnded{})
}

func (Consents) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS consents (
		consent_id      text PRIMARY KEY,
		store_id        text NOT NULL,
		staff_id        text NOT NULL,
		request_date    date NOT NULL,
		applicant_name  text,
		applicant_phone text,
		agent_name      text,
		signed_pdf      text,
		units           int NOT NULL,
		used            int NOT NULL DEFAULT 0,
		valid_from      date,
		valid_to        date,
		recorded_at     timestamptz NOT NULL,
		retention_end   timestamptz NOT NULL,
		ended_at        timestamptz);
	CREATE TABLE IF NOT EXISTS consent_uses (
		consent_id     text NOT NULL,
		application_id text NOT NULL,
		unit           int NOT NULL,
		at             timestamptz NOT NULL,
		PRIMARY KEY (consent_id, unit))`)
	return err
}

func optDate(d domain.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func (Consents) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.ConsentRecorded:
			var name, phone, agent *string
			if !e.Parties.Erased {
				p := e.Parties.Value
				n := p.Applicant.Name
				if p.Applicant.CorporationName != "" {
					n = p.Applicant.CorporationName + " " + n
				}
				name, phone = &n, &p.Applicant.Phone
				if p.Agent != nil {
					agent = &p.Agent.Name
				}
			}
			b.Queue(`INSERT INTO consents (consent_id, store_id, staff_id, request_date, applicant_name, applicant_phone, agent_name, signed_pdf, units, valid_from, valid_to, recorded_at, retention_end)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING`,
				e.ConsentID, e.StoreID, e.StaffID, e.RequestDate.String(), name, phone, agent, e.SignedPDF, e.Units,
				optDate(e.ValidFrom), optDate(e.ValidTo), e.RecordedAt, e.RecordedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentUnitUsed:
			b.Queue(`INSERT INTO consent_uses VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, e.ConsentID, e.ApplicationID.String(), e.Unit, e.At)
			b.Queue(`UPDATE consents SET used=$2, retention_end=$3 WHERE consent_id=$1`, e.ConsentID, e.Unit, e.At.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentRetentionEnded:
			b.Queue(`UPDATE consents SET applicant_name=NULL, applicant_phone=NULL, agent_name=NULL, ended_at=$2 WHERE consent_id=$1`, e.ConsentID, e.EndedAt)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
