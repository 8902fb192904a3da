package setup_test

import (
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
// runner does.
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
		evs := make([]es.Event, len(events))
		for i, e := range events {
			evs[i] = es.Event{RecordedEvent: es.RecordedEvent{Type: e.EventType()}, Payload: e}
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
	valid, err := r.Received(ctx, "S001")
	if err != nil || len(valid) != 1 || !valid[0].ValidUntil.Equal(at("2025-01-01T10:00")) {
		t.Fatalf("received of S001: %+v, %v; want AP-RCVD valid until 5 years from completion", valid, err)
	}
	awaiting, err := r.Awaiting(ctx, "", at("2026-03-05T10:00"))
	if err != nil || len(awaiting) != 1 || awaiting[0].ApplicationID != "AP-RECENT" || awaiting[0].DaysLeft != 56 || !awaiting[0].Deadline.Equal(at("2026-04-30T10:00")) {
		t.Fatalf("awaiting: %+v, %v; want AP-RECENT (AP-OLD is past its deadline) with 56 days left", awaiting, err)
	}
	none, err := r.Received(ctx, "S999")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("received of another store: %#v, %v; want an empty list, not null", none, err)
	}
}

func TestReaderCertificates(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	content := certificate.Content{Number: "SC-1", OBUNumber: "1234567890123456789", VehicleType: "普通乗用", Plate: "品川 300 あ 12-34", SetupDate: domain.DateOf(at("2026-04-02T10:00")), StoreID: "S001"}
	project(t, pool, proj.Certificates{Code: func([]byte) string { return "CODE-1" }}, certificate.Issued{Content: content, SetupID: "SU-1", ApplicationID: "AP-1", At: at("2026-04-02T10:00")})
	r := proj.Reader{Pool: pool}

	if n, err := r.LatestCertificate(ctx, "AP-1"); n != "SC-1" || err != nil {
		t.Fatalf("latest: %q, %v", n, err)
	}
	if _, err := r.LatestCertificate(ctx, "AP-NONE"); !errors.Is(err, certificate.ErrNotFound) {
		t.Fatalf("latest of none: %v, want not found", err)
	}
	if got, err := r.CertificateByCode(ctx, "CODE-1"); got != content || err != nil {
		t.Fatalf("by code: %+v, %v; want %+v", got, err, content)
	}
	if _, err := r.CertificateByCode(ctx, "NOPE"); !errors.Is(err, proj.ErrUnknownVerificationCode) {
		t.Fatalf("unknown code: %v", err)
	}
}
