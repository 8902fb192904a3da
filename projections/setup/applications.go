// Package setup holds the read models of the setup area. Each projector is a
// pure function of the event log. Personal data rests in a view only sealed
// under the data subject's key (the consent's parties), or not at all (the
// applications view): erasure is the key's destruction, never an UPDATE
// that would leave plaintext in dead tuples, WAL and backups.
package setup

import (
	"context"
	"time"

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

// ReadsNoPersonalData implements projections.Impersonal: the view copies no
// personal data, so the applicants' details are never opened for it.
func (Applications) ReadsNoPersonalData() {}

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

// Apply writes the batch in order. Runs of consecutive completions are one
// multi-row INSERT (arrays unnested) instead of one statement per event; an
// update flushes the run before it, so the order of the log is kept.
func (Applications) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	var ins applicationRows
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.Completed:
			var store *string
			if e.StoreID != "" {
				store = &e.StoreID
			}
			ins.add(e.ApplicationID.String(), false, nil, nil, e.Units, e.CompletedAt, store)
		case application.FiledByProxy:
			ins.add(e.ApplicationID.String(), true, &e.StoreID, &e.ConsentID, e.Units, e.CompletedAt, nil)
		case application.Received:
			ins.queue(b)
			b.Queue(`UPDATE applications SET status='received', received_at=$2, receiving_store=$3, locked=false WHERE application_id=$1`, e.ApplicationID.String(), e.ReceivedAt, e.StoreID)
		case application.ReceptionLocked:
			ins.queue(b)
			b.Queue(`UPDATE applications SET locked=true WHERE application_id=$1`, e.ApplicationID.String())
		case application.ReceptionUnlocked:
			ins.queue(b)
			b.Queue(`UPDATE applications SET locked=false WHERE application_id=$1`, e.ApplicationID.String())
		case application.Expired:
			ins.queue(b)
			b.Queue(`UPDATE applications SET status='expired', ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.ExpiredAt)
		case application.RetentionEnded:
			ins.queue(b)
			b.Queue(`UPDATE applications SET status='retention_ended', ended_at=$2 WHERE application_id=$1`, e.ApplicationID.String(), e.EndedAt)
		}
	}
	ins.queue(b)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// applicationRows are completed applications not yet written, as columns.
type applicationRows struct {
	id                         []string
	byProxy                    []bool
	filingStore, consent, shop []*string
	units                      []int32
	completed, deadline, until []time.Time
}

func (r *applicationRows) add(id string, byProxy bool, filingStore, consent *string, units int, completedAt time.Time, appliedStore *string) {
	r.id = append(r.id, id)
	r.byProxy = append(r.byProxy, byProxy)
	r.filingStore = append(r.filingStore, filingStore)
	r.consent = append(r.consent, consent)
	r.units = append(r.units, int32(units))
	r.completed = append(r.completed, completedAt)
	r.deadline = append(r.deadline, completedAt.Add(application.ReceptionPeriod))
	r.until = append(r.until, completedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
	r.shop = append(r.shop, appliedStore)
}

// queue adds one INSERT of the rows to b and empties r. The first
// completion of an application wins, as with one INSERT … ON CONFLICT DO
// NOTHING each: later ones in the run are dropped here, and rows already in
// the view are left out by an anti-join. That is cheaper in PostgreSQL than
// ON CONFLICT (a speculative insertion per row); the projector is the
// view's only writer (one leader, whose writes hold the checkpoint row, or
// one rebuild, on its own tables), so nothing races it.
func (r *applicationRows) queue(b *pgx.Batch) {
	if len(r.id) == 0 {
		return
	}
	if len(r.id) > 1 {
		r.dedupe()
	}
	b.Queue(`INSERT INTO applications (application_id, status, by_proxy, filing_store, consent_id, units, completed_at, deadline, retain_until, applied_store)
		SELECT r.id, 'completed', r.by_proxy, r.filing_store, r.consent_id, r.units, r.completed_at, r.deadline, r.retain_until, r.applied_store
		FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[])
			AS r(id, by_proxy, filing_store, consent_id, units, completed_at, deadline, retain_until, applied_store)
		WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.application_id = r.id)`,
		r.id, r.byProxy, r.filingStore, r.consent, r.units, r.completed, r.deadline, r.until, r.shop)
	*r = applicationRows{}
}

// dedupe keeps the first row of each application.
func (r *applicationRows) dedupe() {
	seen := make(map[string]bool, len(r.id))
	k := 0
	for i, id := range r.id {
		if seen[id] {
			continue
		}
		seen[id] = true
		r.id[k], r.byProxy[k], r.filingStore[k], r.consent[k], r.units[k] = id, r.byProxy[i], r.filingStore[i], r.consent[i], r.units[i]
		r.completed[k], r.deadline[k], r.until[k], r.shop[k] = r.completed[i], r.deadline[i], r.until[i], r.shop[i]
		k++
	}
	r.id, r.byProxy, r.filingStore, r.consent, r.units = r.id[:k], r.byProxy[:k], r.filingStore[:k], r.consent[:k], r.units[:k]
	r.completed, r.deadline, r.until, r.shop = r.completed[:k], r.deadline[:k], r.until[:k], r.shop[:k]
}
