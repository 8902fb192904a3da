package setup_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/setup"
)

var now = domaintest.At("2026-04-02T10:00")

func events(es ...domain.Event) []domain.Event { return es }

func plate(s string) setup.PlateNumber { return domaintest.Must(setup.ParsePlate(s)) }

func obuNumber(s string) setup.OBUNumber { return domaintest.Must(setup.ParseOBUNumber(s)) }

var (
	started  = setup.Started{SetupID: "SU-1", ApplicationID: "A2026-0001", StoreID: "S001", StaffID: "ST01", At: now}
	visitor  = setup.VisitorRecorded{SetupID: "SU-1", Kind: setup.VisitorUser, Visitor: domain.Seal("A2026-0001", setup.Visitor{}), At: now}
	identity = setup.IdentityChecked{SetupID: "SU-1", Passed: true, Check: domain.Seal("A2026-0001", setup.IdentityCheck{Method: "運転免許証"}), At: now}
	multiple = setup.MultipleUnitsAnswered{SetupID: "SU-1", Multiple: false, At: now}
	vehicle  = setup.VehicleRecorded{SetupID: "SU-1", Source: setup.SourceManual, Plate: domain.Seal("A2026-0001", plate("品川 300 あ 12-34")), GrossWeightKg: 1850, VehicleType: "普通乗用", At: now}
	obu      = setup.OBURecorded{SetupID: "SU-1", Kind: setup.OBUKindETC2, Number: domain.Seal("A2026-0001", obuNumber("1234567890123456789")), Security: setup.SecurityNew, At: now}
	card     = setup.CardWritten{SetupID: "SU-1", CardSerial: "CARD-77", WrittenHash: "sha256:ff", StaffID: "ST01", At: now}
	executed = setup.Executed{SetupID: "SU-1", StaffID: "ST01", At: now}
	notified = setup.CompletionNotified{
		SetupID: "SU-1", ApplicationID: "A2026-0001", StoreID: "S001", StaffID: "ST01",
		OBUKind: setup.OBUKindETC2, OBUNumber: domain.Seal("A2026-0001", obuNumber("1234567890123456789")), Security: setup.SecurityNew,
		Plate: domain.Seal("A2026-0001", plate("品川 300 あ 12-34")), VehicleType: "普通乗用", GrossWeightKg: 1850,
		SetupDate: domain.DateOf(now), At: now,
	}
)

// upTo returns the history up to and including step n (1 = started).
func upTo(n int) []domain.Event {
	return append([]domain.Event{}, []domain.Event{started, visitor, identity, multiple, vehicle, obu, card, executed, notified}[:n]...)
}

type when func(*setup.Setup) ([]domain.Event, error)

func TestSteps(t *testing.T) {
	recordVehicle := func(c setup.RecordVehicle) when {
		return func(s *setup.Setup) ([]domain.Event, error) { return s.RecordVehicle(c, now) }
	}
	manual := setup.RecordVehicle{Source: setup.SourceManual, Plate: "品川３００あ１２３４", GrossWeightKg: 1850, VehicleType: " 普通乗用 "}
	recordOBU := func(c setup.RecordOBU) when {
		return func(s *setup.Setup) ([]domain.Event, error) { return s.RecordOBU(c, now) }
	}
	visit := func(c setup.RecordVisitor) when {
		return func(s *setup.Setup) ([]domain.Event, error) { return s.RecordVisitor(c, now) }
	}
	tests := []struct {
		name    string
		given   []domain.Event
		when    when
		want    []domain.Event
		wantErr error
	}{
		{name: "start", when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Start(setup.Start{SetupID: "SU-1", ApplicationID: "A2026-0001", StoreID: "S001", StaffID: "ST01"}, now)
		}, want: events(started)},
		{name: "start_twice", given: upTo(1), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Start(setup.Start{SetupID: "SU-1", ApplicationID: "A2026-0001", StoreID: "S001", StaffID: "ST01"}, now)
		}, wantErr: setup.ErrAlreadyStarted},
		{name: "start_needs_application", when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Start(setup.Start{SetupID: "SU-1", StoreID: "S001", StaffID: "ST01"}, now)
		}, wantErr: setup.ErrMissingApplication},
		{name: "step_before_start", when: visit(setup.RecordVisitor{Kind: setup.VisitorUser}), wantErr: setup.ErrNotStarted},
		{name: "visitor_user", given: upTo(1), when: visit(setup.RecordVisitor{Kind: setup.VisitorUser}), want: events(visitor)},
		{name: "visitor_other_with_document", given: upTo(1), when: visit(setup.RecordVisitor{Kind: setup.VisitorOther, Name: "鈴木 一郎", IDDocumentType: "運転免許証", DocumentChecked: true}),
			want: events(setup.VisitorRecorded{SetupID: "SU-1", Kind: setup.VisitorOther, Visitor: domain.Seal("A2026-0001", setup.Visitor{Name: "鈴木 一郎", IDDocumentType: "運転免許証"}), DocumentChecked: true, At: now})},
		{name: "visitor_other_without_document", given: upTo(1), when: visit(setup.RecordVisitor{Kind: setup.VisitorOther, Name: "鈴木 一郎", DocumentChecked: true}), wantErr: setup.ErrMissingIDDocument},
		{name: "visitor_other_unchecked", given: upTo(1), when: visit(setup.RecordVisitor{Kind: setup.VisitorOther, Name: "鈴木 一郎", IDDocumentType: "運転免許証"}), wantErr: setup.ErrIDDocumentNotChecked},
		{name: "visitor_other_without_name", given: upTo(1), when: visit(setup.RecordVisitor{Kind: setup.VisitorOther, IDDocumentType: "運転免許証", DocumentChecked: true}), wantErr: setup.ErrMissingVisitorName},
		{name: "visitor_unknown_kind", given: upTo(1), when: visit(setup.RecordVisitor{Kind: "friend"}), wantErr: setup.ErrInvalidVisitorKind},
		{name: "identity_before_visitor", given: upTo(1), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.CheckIdentity(setup.CheckIdentity{Passed: true, Method: "運転免許証"}, now)
		}, wantErr: setup.ErrStepOutOfOrder},
		{name: "identity_checked", given: upTo(2), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.CheckIdentity(setup.CheckIdentity{Passed: true, Method: "運転免許証"}, now)
		}, want: events(identity)},
		{name: "identity_needs_method", given: upTo(2), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.CheckIdentity(setup.CheckIdentity{Passed: true}, now)
		}, wantErr: setup.ErrMissingIdentityMethod},
		{name: "failed_identity_halts", given: append(upTo(2), setup.IdentityChecked{SetupID: "SU-1", Passed: false}), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.AnswerMultipleUnits(setup.AnswerMultipleUnits{}, now)
		}, wantErr: setup.ErrIdentityNotConfirmed},
		{name: "multiple_units_answered", given: upTo(3), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.AnswerMultipleUnits(setup.AnswerMultipleUnits{Multiple: true}, now)
		}, want: events(setup.MultipleUnitsAnswered{SetupID: "SU-1", Multiple: true, At: now})},
		{name: "vehicle_before_multiple_units", given: upTo(3), when: recordVehicle(manual), wantErr: setup.ErrStepOutOfOrder},
		{name: "vehicle_manual_normalised", given: upTo(4), when: recordVehicle(manual), want: events(vehicle)},
		{name: "vehicle_by_type_designation", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceTypeDesignation, Plate: "品川 300 あ 12-34", TypeDesignationNumber: "１２３４５", CategoryNumber: "0001", GrossWeightKg: 1850, Towing: true, VehicleType: "普通乗用"}),
			want: events(setup.VehicleRecorded{SetupID: "SU-1", Source: setup.SourceTypeDesignation, Plate: domain.Seal("A2026-0001", plate("品川 300 あ 12-34")), TypeDesignationNumber: "12345", CategoryNumber: "0001", GrossWeightKg: 1850, Towing: true, VehicleType: "普通乗用", At: now})},
		{name: "type_designation_needs_numbers", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceTypeDesignation, Plate: "品川 300 あ 12-34", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidTypeDesignation},
		{name: "type_designation_four_digits", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceTypeDesignation, Plate: "品川 300 あ 12-34", TypeDesignationNumber: "1234", CategoryNumber: "001", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidTypeDesignation},
		{name: "category_five_digits", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceTypeDesignation, Plate: "品川 300 あ 12-34", TypeDesignationNumber: "12345", CategoryNumber: "00001", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidCategoryNumber},
		{name: "category_two_digits", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceTypeDesignation, Plate: "品川 300 あ 12-34", TypeDesignationNumber: "12345", CategoryNumber: "01", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidCategoryNumber},
		{name: "zero_gross_weight", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceManual, Plate: "品川 300 あ 12-34", VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidGrossWeight},
		{name: "missing_vehicle_type", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceManual, Plate: "品川 300 あ 12-34", GrossWeightKg: 1850}), wantErr: setup.ErrMissingVehicleType},
		{name: "unknown_source", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: "guess", Plate: "品川 300 あ 12-34", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidVehicleSource},
		{name: "bad_plate", given: upTo(4), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceManual, Plate: "300 あ 12-34", GrossWeightKg: 1850, VehicleType: "普通乗用"}), wantErr: setup.ErrInvalidPlate},
		{name: "vehicle_corrected_after_obu", given: upTo(6), when: recordVehicle(setup.RecordVehicle{Source: setup.SourceManual, Plate: "品川 300 あ 12-35", GrossWeightKg: 1850, VehicleType: "普通乗用"}),
			want: events(setup.VehicleRecorded{SetupID: "SU-1", Source: setup.SourceManual, Plate: domain.Seal("A2026-0001", plate("品川 300 あ 12-35")), GrossWeightKg: 1850, VehicleType: "普通乗用", At: now})},
		{name: "vehicle_frozen_after_card", given: upTo(7), when: recordVehicle(manual), wantErr: setup.ErrStepOutOfOrder},
		{name: "obu_before_vehicle", given: upTo(4), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC, Number: "1234567890123456789"}), wantErr: setup.ErrStepOutOfOrder},
		{name: "obu_recorded_with_hyphens_and_full_width", given: upTo(5), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC2, Number: "１２３４-５６７８-９０１２-３４５６-７８９"}), want: events(obu)},
		{name: "old_security_obu", given: upTo(5), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC, Number: "0234567890123456789"}),
			want: events(setup.OBURecorded{SetupID: "SU-1", Kind: setup.OBUKindETC, Number: domain.Seal("A2026-0001", obuNumber("0234567890123456789")), Security: setup.SecurityOld, At: now})},
		{name: "obu_unknown_security", given: upTo(5), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC, Number: "2234567890123456789"}), wantErr: setup.ErrUnknownSecurityStandard},
		{name: "obu_18_digits", given: upTo(5), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC, Number: "123456789012345678"}), wantErr: setup.ErrInvalidOBUNumber},
		{name: "obu_bad_kind", given: upTo(5), when: recordOBU(setup.RecordOBU{Kind: "ETC3", Number: "1234567890123456789"}), wantErr: setup.ErrInvalidOBUKind},
		{name: "obu_corrected_before_card", given: upTo(6), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC2, Number: "1234567890123456789"}), want: events(obu)},
		{name: "obu_frozen_after_card", given: upTo(7), when: recordOBU(setup.RecordOBU{Kind: setup.OBUKindETC2, Number: "1234567890123456789"}), wantErr: setup.ErrStepOutOfOrder},
		{name: "card_before_obu", given: upTo(5), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.WriteCard(setup.WriteCard{CardSerial: "CARD-77", WrittenHash: "sha256:ff", StaffID: "ST01"}, now)
		}, wantErr: setup.ErrStepOutOfOrder},
		{name: "card_written", given: upTo(6), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.WriteCard(setup.WriteCard{CardSerial: "CARD-77", WrittenHash: "sha256:ff", StaffID: "ST01"}, now)
		}, want: events(card)},
		{name: "card_needs_hash", given: upTo(6), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.WriteCard(setup.WriteCard{CardSerial: "CARD-77", StaffID: "ST01"}, now)
		}, wantErr: setup.ErrMissingWrittenHash},
		{name: "execute_before_card", given: upTo(6), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Execute(setup.Execute{StaffID: "ST01"}, now)
		}, wantErr: setup.ErrStepOutOfOrder},
		{name: "executed", given: upTo(7), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Execute(setup.Execute{StaffID: "ST01"}, now)
		}, want: events(executed)},
		{name: "notify_before_execute", given: upTo(7), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.NotifyCompletion(setup.NotifyCompletion{StaffID: "ST01"}, now)
		}, wantErr: setup.ErrStepOutOfOrder},
		{name: "completion_notified_with_certificate_data", given: upTo(8), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.NotifyCompletion(setup.NotifyCompletion{StaffID: "ST01"}, now)
		}, want: events(notified)},
		{name: "nothing_after_completion", given: upTo(9), when: func(s *setup.Setup) ([]domain.Event, error) {
			return s.Execute(setup.Execute{StaffID: "ST01"}, now)
		}, wantErr: setup.ErrAlreadyCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.when(setup.Load(tt.given))
			domaintest.Then(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestOutOfOrderNamesExpectedStep(t *testing.T) {
	_, err := setup.Load(upTo(1)).CheckIdentity(setup.CheckIdentity{Passed: true, Method: "x"}, now)
	var de *domain.Error
	if !errors.As(err, &de) || !strings.Contains(de.Detail, "record visitor") {
		t.Fatalf("detail does not name the expected step: %v", err)
	}
}

func TestParsePlate(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "canonical", in: "品川 300 あ 12-34", want: "品川 300 あ 12-34"},
		{name: "full_width_and_no_spaces", in: "品川３００あ１２３４", want: "品川 300 あ 12-34"},
		{name: "full_width_space_and_hyphen", in: "　品川　300　あ　12－34　", want: "品川 300 あ 12-34"},
		{name: "three_digit_serial", in: "品川 300 あ 123", want: "品川 300 あ ・123"},
		{name: "dotted_serial", in: "品川 300 あ ・・12", want: "品川 300 あ ・・12"},
		{name: "one_digit_serial", in: "品川 300 あ 1", want: "品川 300 あ ・・・1"},
		{name: "hiragana_region", in: "いわき 500 さ 1-23", want: "いわき 500 さ ・123"},
		{name: "four_kanji_region", in: "尾張小牧 530 た 88-88", want: "尾張小牧 530 た 88-88"},
		{name: "class_with_letter", in: "品川 30A あ 12-34", want: "品川 30A あ 12-34"},
		{name: "missing_region", in: "300 あ 12-34", wantErr: true},
		{name: "missing_kana", in: "品川 300 12-34", wantErr: true},
		{name: "katakana_kana", in: "品川 300 ア 12-34", wantErr: true},
		{name: "serial_too_long", in: "品川 300 あ 123-45", wantErr: true},
		{name: "serial_leading_zero", in: "品川 300 あ 01-23", wantErr: true},
		{name: "class_too_long", in: "品川 3000 あ 12-34", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := setup.ParsePlate(tt.in)
			if tt.wantErr {
				domaintest.ThenErr(t, err, setup.ErrInvalidPlate)
				return
			}
			if err != nil || p.String() != tt.want {
				t.Fatalf("ParsePlate(%q) = %q, %v; want %q", tt.in, p, err, tt.want)
			}
			again, err := setup.ParsePlate(p.String())
			if err != nil || again != p {
				t.Fatalf("canonical form does not parse to itself: %q %v", again, err)
			}
		})
	}
}

func TestParseInspectionQR(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    setup.RecordVehicle
		wantErr bool
	}{
		{name: "full", in: "JCI1/品川300あ1234/12345/0001/1850/普通乗用", want: setup.RecordVehicle{Source: setup.SourceInspectionQR, Plate: "品川300あ1234", TypeDesignationNumber: "12345", CategoryNumber: "0001", GrossWeightKg: 1850, Towing: true, VehicleType: "普通乗用"}},
		{name: "without_type_designation", in: "JCI1/品川 300 あ 12-34///2500/小型貨物", want: setup.RecordVehicle{Source: setup.SourceInspectionQR, Plate: "品川 300 あ 12-34", GrossWeightKg: 2500, Towing: true, VehicleType: "小型貨物"}},
		{name: "wrong_prefix", in: "XYZ/品川300あ1234/12345/0001/1850/普通乗用", wantErr: true},
		{name: "too_few_fields", in: "JCI1/品川300あ1234/12345/0001/1850", wantErr: true},
		{name: "weight_not_number", in: "JCI1/品川300あ1234/12345/0001/abc/普通乗用", wantErr: true},
		{name: "bad_plate", in: "JCI1/300あ1234/12345/0001/1850/普通乗用", wantErr: true},
		{name: "bad_category", in: "JCI1/品川300あ1234/12345/01/1850/普通乗用", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setup.ParseInspectionQR(tt.in, true)
			if tt.wantErr {
				domaintest.ThenErr(t, err, setup.ErrInvalidInspectionQR)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v", got, err)
			}
			if _, err := setup.Load(upTo(4)).RecordVehicle(got, now); err != nil {
				t.Fatalf("recording parsed vehicle: %v", err)
			}
		})
	}
}

func TestEventsJSONRoundTrip(t *testing.T) {
	all := []domain.Event{started, visitor, identity, multiple, vehicle, obu, card, executed, notified,
		setup.VisitorRecorded{SetupID: "SU-1", Kind: setup.VisitorOther, Visitor: domain.Seal("A2026-0001", setup.Visitor{Name: "鈴木 一郎", IDDocumentType: "運転免許証"}), DocumentChecked: true, At: now}}
	domaintest.RoundTrip(t, all, setup.EventTypes())
}

// A vehicle and OBU recorded before they were sealed (schema v1, upcast
// without a subject) are sealed anew under the application by the
// completion notice, so the notice can be stored and erased with it.
func TestNotifyCompletionSealsLegacyVehicleUnderTheApplication(t *testing.T) {
	legacyVehicle, legacyOBU := vehicle, obu
	legacyVehicle.Plate.Subject, legacyOBU.Number.Subject = "", ""
	s := setup.Load(events(started, visitor, identity, multiple, legacyVehicle, legacyOBU, card, executed))
	got, err := s.NotifyCompletion(setup.NotifyCompletion{StaffID: "ST01"}, now)
	if err != nil {
		t.Fatal(err)
	}
	n := got[0].(setup.CompletionNotified)
	if n.Plate.Subject != "A2026-0001" || n.OBUNumber.Subject != "A2026-0001" || n.Plate.Value.String() != "品川 300 あ 12-34" {
		t.Fatalf("completion notice: plate %+v, OBU %+v; want both sealed under the application", n.Plate, n.OBUNumber)
	}
}
