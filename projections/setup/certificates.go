package setup

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// CertificatesName is durable (checkpoint key, schema proj_setup_certificates).
const CertificatesName = "setup_certificates"

// StatsName is durable (checkpoint key, schema proj_setup_issuance_stats).
const StatsName = "setup_issuance_stats"

// Certificates is the view of certificates, their download window, counts
// and verification codes (for the public check). The plate and OBU number
// are personal: the row keeps them only sealed under the application's key
// (column vehicle), so they are erased with the application.
type Certificates struct {
	// Code computes the verification code of a certificate's canonical
	// content, for schema v1 issue events that did not record theirs.
	Code func(canonical []byte) string
	// Seal seals the vehicle items under the application (es.Sealer).
	Seal ValueSealer
}

func (Certificates) Name() string { return CertificatesName }

// EventTypes implements projections.Selective.
func (Certificates) EventTypes() []string {
	return projections.TypesOf(certificate.Issued{}, certificate.LinkSent{}, certificate.LinkReissued{}, certificate.Downloaded{}, certificate.Printed{})
}

func (Certificates) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS certificates (
		number            text PRIMARY KEY,
		application_id    text NOT NULL,
		setup_id          text NOT NULL,
		store_id          text NOT NULL,
		content           jsonb NOT NULL,
		vehicle           bytea,
		verification_code text NOT NULL UNIQUE,
		issued_at         timestamptz NOT NULL,
		link_sent_at      timestamptz,
		link_expires_at   timestamptz,
		downloads         int NOT NULL DEFAULT 0,
		prints            int NOT NULL DEFAULT 0,
		last_printed_by   text)`)
	return err
}

func (p Certificates) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case certificate.Issued:
			code := e.VerificationCode
			if code == "" {
				code = p.Code(e.FullContent().Canonical())
			}
			var vehicle []byte
			if !e.Vehicle.Erased {
				plain, _ := json.Marshal(e.Vehicle.Value)
				sealed, err := p.Seal.SealValue(ctx, e.ApplicationID, plain)
				if err != nil && !errors.Is(err, es.ErrShredded) {
					return err
				}
				vehicle = sealed
			}
			content, _ := json.Marshal(e.Content)
			b.Queue(`INSERT INTO certificates (number, application_id, setup_id, store_id, content, vehicle, verification_code, issued_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`, e.Content.Number, e.ApplicationID, e.SetupID, e.Content.StoreID, content, vehicle, code, e.At)
		case certificate.LinkSent:
			b.Queue(`UPDATE certificates SET link_sent_at=$2, link_expires_at=$3 WHERE number=$1`, e.Number, e.SentAt, e.ExpiresAt)
		case certificate.LinkReissued:
			b.Queue(`UPDATE certificates SET link_sent_at=$2, link_expires_at=$3 WHERE number=$1`, e.Number, e.SentAt, e.ExpiresAt)
		case certificate.Downloaded:
			b.Queue(`UPDATE certificates SET downloads=$2 WHERE number=$1`, e.Number, e.Count)
		case certificate.Printed:
			b.Queue(`UPDATE certificates SET prints=prints+1, last_printed_by=$2 WHERE number=$1`, e.Number, e.StaffID)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}

// Stats is the issuance statistics per store per Japan-time day.
type Stats struct{}

func (Stats) Name() string { return StatsName }

// EventTypes implements projections.Selective.
func (Stats) EventTypes() []string {
	return projections.TypesOf(certificate.Issued{}, certificate.Printed{})
}

// ReadsNoPersonalData implements projections.Impersonal: counts per store
// and day, never the vehicle items.
func (Stats) ReadsNoPersonalData() {}

func (Stats) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS issuance (
		store_id text NOT NULL,
		day      date NOT NULL,
		issued   int NOT NULL DEFAULT 0,
		prints   int NOT NULL DEFAULT 0,
		downloads int NOT NULL DEFAULT 0,
		PRIMARY KEY (store_id, day))`)
	return err
}

func (Stats) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	const up = `INSERT INTO issuance (store_id, day, issued, prints, downloads) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (store_id, day) DO UPDATE SET issued = issuance.issued + $3, prints = issuance.prints + $4, downloads = issuance.downloads + $5`
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case certificate.Issued:
			b.Queue(up, e.Content.StoreID, domain.DateOf(e.At).String(), 1, 0, 0)
		case certificate.Printed:
			b.Queue(up, e.StoreID, domain.DateOf(e.At).String(), 0, 1, 0)
		}
	}
	return tx.SendBatch(ctx, b).Close()
}
