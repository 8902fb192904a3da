package setup_test

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func TestPrint(t *testing.T) {
	now := domaintest.At("2026-04-03T10:00")
	issued := certificate.Issued{Content: certificate.Content{Number: "SC-1", OBUNumber: "1234567890123456789", VehicleType: "普通乗用", Plate: "品川 300 あ 12-34",
		GrossWeightKg: 1850, SetupDate: domain.DateOf(now), StoreID: "S001"}, SetupID: "SU-1", ApplicationID: "AP-1", At: now}
	tests := []struct {
		name     string
		given    []domain.Event
		store    string
		expected int64
		want     []domain.Event
		wantErr  error
	}{
		{name: "own_store_prints_and_logs_who", given: []domain.Event{issued}, store: "S001", expected: -1,
			want: []domain.Event{certificate.Printed{Number: "SC-1", StoreID: "S001", StaffID: "ST01", At: now}}},
		{name: "at_the_version_read", given: []domain.Event{issued}, store: "S001", expected: 1,
			want: []domain.Event{certificate.Printed{Number: "SC-1", StoreID: "S001", StaffID: "ST01", At: now}}},
		{name: "stale_if_match_is_a_conflict", given: []domain.Event{issued}, store: "S001", expected: 2, wantErr: es.ErrWrongExpectedVersion},
		{name: "another_stores_certificate_is_not_found", given: []domain.Event{issued}, store: "S999", expected: -1, wantErr: certificate.ErrNotFound},
		{name: "unknown_certificate_is_not_found", store: "S001", expected: -1, wantErr: certificate.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.CertificateStream("SC-1"), tt.given...)
			c, res, err := cmds.PrintHandler{Streams: st, Clock: commandsClock(now)}.Handle(context.Background(),
				cmds.Print{Number: "SC-1", StoreID: tt.store, StaffID: "ST01", ExpectedVersion: tt.expected})
			got := st.appended[cmds.CertificateStream("SC-1")]
			if errors.Is(tt.wantErr, es.ErrWrongExpectedVersion) {
				if !errors.Is(err, es.ErrWrongExpectedVersion) || len(got) != 0 {
					t.Fatalf("err = %v, appended %v", err, got)
				}
				return
			}
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
			if err == nil && (c.Content().Number != "SC-1" || res.LastVersion != 2) {
				t.Fatalf("printed %+v at version %d", c.Content(), res.LastVersion)
			}
		})
	}
}
