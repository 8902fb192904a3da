package setup

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ConsentsName is durable (checkpoint key, schema proj_setup_consents).
const ConsentsName = "setup_consents"

// Consents is the 5-year history of proxy consents (委任状), searchable by
// store, applicant and date. The parties (applicant's name and phone, the
// agent's name) are personal: the row keeps them only sealed under the
// consent's key (column parties), so the end of the consent's retention,
// which destroys that key, erases them without touching the row.
type Consents struct {
	// Seal seals a value under a data subject's key (es.Sealer).
	Seal ValueSealer
}

// ValueSealer seals a read model's personal value under its data subject's
// key (es.Sealer.SealValue); a shredded subject gives es.ErrShredded.
type ValueSealer interface {
	SealValue(ctx context.Context, subject string, plain []byte) ([]byte, error)
}

// parties is the sealed JSON of a consent's personal fields.
type parties struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Agent string `json:"agent,omitempty"`
}

// sealParties returns the sealed parties, or nil when they are erased
// already (a replay after the consent's retention ended).
func (c Consents) sealParties(ctx context.Context, e application.ConsentRecorded) ([]byte, error) {
	if e.Parties.Erased {
		return nil, nil
	}
	p := e.Parties.Value
	v := parties{Name: p.Applicant.Name, Phone: p.Applicant.Phone}
	if p.Applicant.CorporationName != "" {
		v.Name = p.Applicant.CorporationName + " " + v.Name
	}
	if p.Agent != nil {
		v.Agent = p.Agent.Name
	}
	plain, _ := json.Marshal(v)
	sealed, err := c.Seal.SealValue(ctx, e.ConsentID, plain)
	if errors.Is(err, es.ErrShredded) {
		return nil, nil
	}
	return sealed, err
}

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
		parties         bytea,
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

func (c Consents) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.ConsentRecorded:
			sealed, err := c.sealParties(ctx, e)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO consents (consent_id, store_id, staff_id, request_date, parties, signed_pdf, units, valid_from, valid_to, recorded_at, retention_end)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING`,
				e.ConsentID, e.StoreID, e.StaffID, e.RequestDate.String(), sealed, e.SignedPDF, e.Units,
				optDate(e.ValidFrom), optDate(e.ValidTo), e.RecordedAt, e.RecordedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentUnitUsed:
			b.Queue(`INSERT INTO consent_uses VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, e.ConsentID, e.ApplicationID.String(), e.Unit, e.At)
			b.Queue(`UPDATE consents SET used=$2, retention_end=$3 WHERE consent_id=$1`, e.ConsentID, e.Unit, e.At.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentRetentionEnded:
			b.Queue(`UPDATE consents SET ended_at=$2 WHERE consent_id=$1`, e.ConsentID, e.EndedAt)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
