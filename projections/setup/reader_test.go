package setup_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// project sets p's tables up in its schema and applies events, as the
// runner does: only those of the types p declares (so a type missing from
// EventTypes shows up here as a missing effect).
func project(t *testing.T, pool *pgxpool.Pool, p projections.Projector, events ...domain.Event) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		schema := pgx.Identifier{projections.Schema(p.Name())}.Sanitize()
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema+`; SET LOCAL search_path TO `+schema+`, public`); err != nil {
			return err
		}
		if err := p.Setup(ctx, tx); err != nil {
			return err
		}
		declared := map[string]bool{}
		sp, selective := p.(projections.Selective)
		if selective {
			for _, typ := range sp.EventTypes() {
				declared[typ] = true
			}
		}
		var evs []es.Event
		for _, e := range events {
			if !selective || declared[e.EventType()] {
				evs = append(evs, es.Event{RecordedEvent: es.RecordedEvent{Type: e.EventType()}, Payload: e})
			}
		}
		return p.Apply(ctx, tx, evs)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, domain.Tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func completed(id string, t time.Time) application.Completed {
	appID, err := application.ParseID(id)
	if err != nil {
		panic(err)
	}
	return application.Completed{ApplicationID: appID, Details: domain.Seal(id, application.Details{}), Units: 1, CompletedAt: t}
}

func TestReaderFindsDueWork(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	old, recent, rcvd := completed("AP-OLD", at("2026-01-01T10:00")), completed("AP-RECENT", at("2026-03-01T10:00")), completed("AP-RCVD", at("2020-01-01T10:00"))
	project(t, pool, proj.Applications{}, old, recent, rcvd,
		application.Received{ApplicationID: rcvd.ApplicationID, StoreID: "S001", StaffID: "ST01", ReceivedAt: at("2020-01-02T10:00")})
	r := proj.Reader{Pool: pool}

	ids, err := r.AwaitingCompletedBy(ctx, at("2026-02-01T00:00"))
	if err != nil || !slices.Equal(ids, []string{"AP-OLD"}) {
		t.Fatalf("awaiting completed by Feb: %v, %v; want AP-OLD only (received ones are not candidates)", ids, err)
	}
	ids, err = r.AwaitingCompletedBy(ctx, at("2026-03-01T10:00"))
	if err != nil || !slices.Equal(ids, []string{"AP-OLD", "AP-RECENT"}) {
		t.Fatalf("awaiting completed by 1 March 10:00: %v, %v; want both, oldest first", ids, err)
	}
	ids, err = r.ReceivedCompletedBy(ctx, at("2021-01-01T10:00"))
	if err != nil || !slices.Equal(ids, []string{"AP-RCVD"}) {
		t.Fatalf("received completed by 2021: %v, %v; want AP-RCVD", ids, err)
	}
	validPage, err := r.Received(ctx, "S001", projections.FirstPage)
	valid := validPage.Items
	if err != nil || len(valid) != 1 || !valid[0].ValidUntil.Equal(at("2025-01-01T10:00")) || validPage.Next != "" {
		t.Fatalf("received of S001: %+v, %v; want AP-RCVD valid until 5 years from completion", valid, err)
	}
	awaitingPage, err := r.Awaiting(ctx, "", at("2026-03-05T10:00"), projections.FirstPage)
	awaiting := awaitingPage.Items
	if err != nil || len(awaiting) != 1 || awaiting[0].ApplicationID != "AP-RECENT" || awaiting[0].DaysLeft != 56 || !awaiting[0].Deadline.Equal(at("2026-04-30T10:00")) {
		t.Fatalf("awaiting: %+v, %v; want AP-RECENT (AP-OLD is past its deadline) with 56 days left", awaiting, err)
	}
	nonePage, err := r.Received(ctx, "S999", projections.FirstPage)
	none := nonePage.Items
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("received of another store: %#v, %v; want an empty list, not null", none, err)
	}
}

// The certificates view keeps the plate and OBU number sealed under the
// application; the public check shows them only while the retention runs.
func TestReaderCertificates(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := sealer(t, pool)
	content := certificate.Content{Number: "SC-1", OBUNumber: "1234567890123456789", VehicleType: "普通乗用", Plate: "品川 300 あ 12-34", SetupDate: domain.DateOf(at("2026-04-02T10:00")), StoreID: "S001"}
	bare := content
	bare.Plate, bare.OBUNumber = "", ""
	issued := certificate.Issued{Content: bare, Vehicle: domain.Seal("AP-1", certificate.VehicleIDs{Plate: content.Plate, OBUNumber: content.OBUNumber}),
		VerificationCode: "CODE-1", SetupID: "SU-1", ApplicationID: "AP-1", At: at("2026-04-02T10:00")}
	project(t, pool, proj.Certificates{Code: func([]byte) string { return "COMPUTED" }, Seal: s}, issued)
	project(t, pool, proj.Applications{}, completed("AP-1", at("2026-04-01T10:00")))
	r := proj.Reader{Pool: pool, Keys: s}

	var row []byte
	if err := pool.QueryRow(ctx, `SELECT t::text::bytea FROM proj_setup_certificates.certificates t`).Scan(&row); err != nil || bytes.Contains(row, []byte("品川")) || bytes.Contains(row, []byte("1234567890123456789")) {
		t.Fatalf("the certificate row holds the plate or OBU number in plaintext: %s, %v", row, err)
	}
	if n, err := r.LatestCertificate(ctx, "AP-1"); n != "SC-1" || err != nil {
		t.Fatalf("latest: %q, %v", n, err)
	}
	if _, err := r.LatestCertificate(ctx, "AP-NONE"); !errors.Is(err, certificate.ErrNotFound) {
		t.Fatalf("latest of none: %v, want not found", err)
	}
	if got, err := r.CertificateByCode(ctx, "CODE-1", at("2031-04-01T09:59")); got.Content != content || got.Status != "valid" || err != nil {
		t.Fatalf("by the recorded code within the retention: %+v, %v; want valid with %+v", got, err, content)
	}
	if got, err := r.CertificateByCode(ctx, "CODE-1", at("2031-04-01T10:00")); got.Content != bare || got.Status != "expired" || err != nil {
		t.Fatalf("at the end of the retention (job not run yet): %+v, %v; want expired, no plate", got, err)
	}
	if err := s.Shred(ctx, "AP-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.CertificateByCode(ctx, "CODE-1", at("2026-05-01T10:00")); got.Content != bare || got.Status != "expired" || err != nil {
		t.Fatalf("after the application's erasure: %+v, %v; want expired, no plate", got, err)
	}
	if _, err := r.CertificateByCode(ctx, "NOPE", at("2026-05-01T10:00")); !errors.Is(err, proj.ErrUnknownVerificationCode) {
		t.Fatalf("unknown code: %v", err)
	}
}
