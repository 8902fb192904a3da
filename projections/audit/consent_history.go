// Package audit is the auditors' read side: the event history of any
// stream, the state of any aggregate as of an instant, the proxy consents a
// store held on a date (from a time-indexed history table), and the list of
// audit reads.
package audit

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
)

// ConsentHistoryName is durable (checkpoint key, schema
// proj_audit_consent_history): renaming it rebuilds the table from the
// start of the log.
const ConsentHistoryName = "audit_consent_history"

// Changes a consent's state goes through (the change column).
const (
	ChangeRecorded       = "recorded"
	ChangeUnitUsed       = "unit_used"
	ChangeRetentionEnded = "retention_ended"
)

// ConsentHistory keeps every state a proxy consent (委任状) was in, one row
// per state, valid from the recorded time of the event that made it until
// the recorded time of the next one (valid_to NULL: the current state). The
// proxy consents a store held at an instant are then one indexed query
// (store_id, valid_from). It holds no personal data: IDs, counts and dates
// only; the applicant is read from the consent's stream through the codec.
type ConsentHistory struct{}

func (ConsentHistory) Name() string { return ConsentHistoryName }

// ConsentHistoryDDL creates the table in the current schema (the projector's
// Setup, and the benchmark's bulk load).
const ConsentHistoryDDL = `CREATE TABLE IF NOT EXISTS consent_history (
		consent_id     text        NOT NULL,
		seq            int         NOT NULL,
		store_id       text        NOT NULL,
		valid_from     timestamptz NOT NULL,
		valid_to       timestamptz,
		change         text        NOT NULL,
		application_id text,
		units          int         NOT NULL,
		used           int         NOT NULL,
		period_from    date,
		period_to      date,
		request_date   date        NOT NULL,
		recorded_at    timestamptz NOT NULL,
		last_used_at   timestamptz,
		retention_end  timestamptz NOT NULL,
		ended_at       timestamptz,
		filings        text[]      NOT NULL DEFAULT '{}',
		PRIMARY KEY (consent_id, seq));
	CREATE INDEX IF NOT EXISTS consent_history_store_time ON consent_history (store_id, valid_from) INCLUDE (valid_to, ended_at)`

// EventTypes implements projections.Selective.
func (ConsentHistory) EventTypes() []string {
	return projections.TypesOf(application.ConsentRecorded{}, application.ConsentUnitUsed{}, application.ConsentRetentionEnded{})
}

func (ConsentHistory) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, ConsentHistoryDDL)
	return err
}

func optDate(d domain.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func (ConsentHistory) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case application.ConsentRecorded:
			b.Queue(`INSERT INTO consent_history (consent_id, seq, store_id, valid_from, change, units, used, period_from, period_to, request_date, recorded_at, retention_end)
				VALUES ($1, 1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
				e.ConsentID, e.StoreID, ev.RecordedAt, ChangeRecorded, e.Units, optDate(e.ValidFrom), optDate(e.ValidTo), e.RequestDate.String(),
				e.RecordedAt, e.RecordedAt.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentUnitUsed:
			// Retention runs 5 years from the last use (the domain's rule).
			b.Queue(`WITH prev AS (
					UPDATE consent_history SET valid_to = $2 WHERE consent_id = $1 AND valid_to IS NULL RETURNING *)
				INSERT INTO consent_history (consent_id, seq, store_id, valid_from, change, application_id, units, used, period_from, period_to,
					request_date, recorded_at, last_used_at, retention_end, ended_at, filings)
				SELECT consent_id, seq + 1, store_id, $2, $3, $4, units, $5, period_from, period_to,
					request_date, recorded_at, $6, GREATEST(retention_end, $7), ended_at, filings || $4::text FROM prev`,
				e.ConsentID, ev.RecordedAt, ChangeUnitUsed, e.ApplicationID.String(), e.Unit, e.At, e.At.In(domain.Tokyo).AddDate(application.RetentionYears, 0, 0))
		case application.ConsentRetentionEnded:
			b.Queue(`WITH prev AS (
					UPDATE consent_history SET valid_to = $2 WHERE consent_id = $1 AND valid_to IS NULL RETURNING *)
				INSERT INTO consent_history (consent_id, seq, store_id, valid_from, change, units, used, period_from, period_to,
					request_date, recorded_at, last_used_at, retention_end, ended_at, filings)
				SELECT consent_id, seq + 1, store_id, $2, $3, units, used, period_from, period_to,
					request_date, recorded_at, last_used_at, retention_end, $4, filings FROM prev`,
				e.ConsentID, ev.RecordedAt, ChangeRetentionEnded, e.EndedAt)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
