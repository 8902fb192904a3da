package setup_test

// What a store does on a setup and its certificate: the tablet steps
// (with the 車検証 QR parse) and the print.

import (
	"context"
	"errors"
	"testing"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/setup"
)

// A setup of store S001 up to the vehicle step (versions 1–4).
var (
	stepNow       = domaintest.At("2026-04-02T11:00")
	setupStarted  = setup.Started{SetupID: "SU-1", ApplicationID: "AP-STEP1", StoreID: "S001", StaffID: "ST01", At: stepNow}
	setupVisitor  = setup.VisitorRecorded{SetupID: "SU-1", Kind: setup.VisitorUser, Visitor: domain.Seal("AP-STEP1", setup.Visitor{}), At: stepNow}
	setupIdentity = setup.IdentityChecked{SetupID: "SU-1", Passed: true, Check: domain.Seal("AP-STEP1", setup.IdentityCheck{Method: "運転免許証"}), At: stepNow}
	setupMultiple = setup.MultipleUnitsAnswered{SetupID: "SU-1", Multiple: false, At: stepNow}
)

func TestStep(t *testing.T) {
	toVehicle := []domain.Event{setupStarted, setupVisitor, setupIdentity, setupMultiple}
	tests := []struct {
		name     string
		given    []domain.Event
		store    string
		expected int64
		input    cmds.StepInput
		then     func(t *testing.T, got []domain.Event)
		wantErr  error
	}{
		{name: "visitor_after_start_records_the_visitor", given: toVehicle[:1], expected: -1, input: cmds.RecordVisitor{Kind: setup.VisitorUser},
			then: func(t *testing.T, got []domain.Event) {
				if len(got) != 1 || got[0].(setup.VisitorRecorded).Kind != setup.VisitorUser {
					t.Fatalf("appended %#v, want one VisitorRecorded", got)
				}
			}},
		{name: "vehicle_from_the_inspection_qr", given: toVehicle, expected: 4,
			input: cmds.RecordVehicle{InspectionQR: "JCI1/品川300あ1234/12345/0001/1850/普通乗用", Vehicle: setup.RecordVehicle{Towing: true}},
			then: func(t *testing.T, got []domain.Event) {
				v, ok := got[0].(setup.VehicleRecorded)
				if len(got) != 1 || !ok || v.Source != setup.SourceInspectionQR || v.TypeDesignationNumber != "12345" || v.GrossWeightKg != 1850 || !v.Towing || v.VehicleType != "普通乗用" {
					t.Fatalf("appended %#v, want the vehicle read from the QR", got)
				}
			}},
		{name: "vehicle_fields_without_qr", given: toVehicle, expected: -1,
			input: cmds.RecordVehicle{Vehicle: setup.RecordVehicle{Source: setup.SourceManual, Plate: "品川 300 あ 12-34", GrossWeightKg: 2000, VehicleType: "普通乗用"}},
			then: func(t *testing.T, got []domain.Event) {
				if v := got[0].(setup.VehicleRecorded); v.Source != setup.SourceManual || v.GrossWeightKg != 2000 {
					t.Fatalf("appended %#v, want the manual fields", got)
				}
			}},
		{name: "unreadable_qr_is_invalid", given: toVehicle, expected: -1, input: cmds.RecordVehicle{InspectionQR: "XYZ/品川300あ1234/12345/0001/1850/普通乗用"}, wantErr: setup.ErrInvalidInspectionQR},
		{name: "step_out_of_order_names_the_expected_step", given: toVehicle[:1], expected: -1, input: cmds.CheckIdentity{Passed: true, Method: "運転免許証"}, wantErr: setup.ErrStepOutOfOrder},
		{name: "another_stores_setup_is_not_found", given: toVehicle, store: "S999", expected: -1, input: cmds.AnswerMultipleUnits{}, wantErr: setup.ErrNotStarted},
		{name: "unknown_setup_is_not_found", expected: -1, input: cmds.RecordVisitor{Kind: setup.VisitorUser}, wantErr: setup.ErrNotStarted},
		{name: "stale_if_match_is_a_conflict", given: toVehicle, expected: 3, input: cmds.RecordOBU{Kind: setup.OBUKindETC, Number: "1234567890123456789"}, wantErr: es.ErrWrongExpectedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStreams().given(cmds.SetupStream("SU-1"), tt.given...)
			store := tt.store
			if store == "" {
				store = "S001"
			}
			res, err := cmds.StepHandler{Streams: st, Clock: commandsClock(stepNow)}.Handle(context.Background(),
				cmds.Step{SetupID: "SU-1", StoreID: store, StaffID: "ST02", ExpectedVersion: tt.expected, Input: tt.input})
			got := st.appended[cmds.SetupStream("SU-1")]
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || len(got) != 0 {
					t.Fatalf("err = %v, appended %v; want %v and nothing appended", err, got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.then(t, got)
			if res.LastVersion != int64(len(tt.given)+1) {
				t.Fatalf("version = %d, want %d", res.LastVersion, len(tt.given)+1)
			}
		})
	}
}

// TestStepsRecordTheStaffWhoDidThem: the card and execute steps carry the
// staff of the token, not of the body.
func TestStepsRecordTheStaffWhoDidThem(t *testing.T) {
	obu := setup.OBURecorded{SetupID: "SU-1", Kind: setup.OBUKindETC2, Number: domain.Seal("A2026-0001", domaintest.Must(setup.ParseOBUNumber("1234567890123456789"))), Security: setup.SecurityNew, At: stepNow}
	vehicle := setup.VehicleRecorded{SetupID: "SU-1", Source: setup.SourceManual, Plate: domain.Seal("A2026-0001", domaintest.Must(setup.ParsePlate("品川 300 あ 12-34"))), GrossWeightKg: 1850, VehicleType: "普通乗用", At: stepNow}
	st := newStreams().given(cmds.SetupStream("SU-1"), setupStarted, setupVisitor, setupIdentity, setupMultiple, vehicle, obu)
	h := cmds.StepHandler{Streams: st, Clock: commandsClock(stepNow)}
	for _, in := range []cmds.StepInput{cmds.WriteCard{CardSerial: "CARD-77", WrittenHash: "sha256:ff"}, cmds.Execute{}} {
		if _, err := h.Handle(context.Background(), cmds.Step{SetupID: "SU-1", StoreID: "S001", StaffID: "ST02", ExpectedVersion: -1, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	domaintest.Then(t, st.appended[cmds.SetupStream("SU-1")], nil, []domain.Event{
		setup.CardWritten{SetupID: "SU-1", CardSerial: "CARD-77", WrittenHash: "sha256:ff", StaffID: "ST02", At: stepNow},
		setup.Executed{SetupID: "SU-1", StaffID: "ST02", At: stepNow},
	}, nil)
}

func TestPrint(t *testing.T) {
	now := domaintest.At("2026-04-03T10:00")
	issued := certificate.Issued{Content: certificate.Content{Number: "SC-1", VehicleType: "普通乗用",
		GrossWeightKg: 1850, SetupDate: domain.DateOf(now), StoreID: "S001"}, Vehicle: domain.Seal("AP-1", certificate.VehicleIDs{Plate: "品川 300 あ 12-34", OBUNumber: "1234567890123456789"}),
		SetupID: "SU-1", ApplicationID: "AP-1", At: now}
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
