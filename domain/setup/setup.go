// Package setup is the Setup aggregate (セットアップ): the store-side flow that
// starts with the reception of an application and ends with the completion
// notice (セットアップ完了通知), from which the certificate is issued.
//
// Steps, in order (Step constants): record visitor → identity check →
// several-OBUs answer → vehicle data → OBU data → setup card written → setup
// executed → completion notified. A step out of order is ErrStepOutOfOrder
// naming the expected step. Vehicle and OBU data may be recorded again
// (corrections) until the card is written.
//
// Command methods decide and never mutate; Apply is the only mutation.
package setup

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// Step is a step of the setup flow.
type Step int

const (
	StepStart Step = iota
	StepVisitor
	StepIdentity
	StepMultipleUnits
	StepVehicle
	StepOBU
	StepCard
	StepExecute
	StepNotify
	StepDone
)

func (s Step) String() string {
	switch s {
	case StepStart:
		return "start (受付)"
	case StepVisitor:
		return "record visitor (来店者の記録)"
	case StepIdentity:
		return "identity check (本人確認)"
	case StepMultipleUnits:
		return "several-OBUs answer (車載器の複数台取付け有無確認)"
	case StepVehicle:
		return "vehicle data (車両情報)"
	case StepOBU:
		return "OBU data (車載器情報)"
	case StepCard:
		return "write setup card (セットアップカード書込み)"
	case StepExecute:
		return "execute setup (セットアップ実行)"
	case StepNotify:
		return "completion notice (セットアップ完了通知)"
	case StepDone:
		return "done (完了)"
	}
	return "unknown"
}

// Setup is the Setup aggregate. The zero value (or New()) has not started.
type Setup struct {
	id             string
	applicationID  string
	storeID        string
	next           Step
	identityFailed bool
	multiple       bool
	vehicle        VehicleRecorded
	obu            OBURecorded
	card           CardWritten
}

// New returns a setup with no history.
func New() *Setup { return &Setup{} }

// Load replays events into a new setup.
func Load(events []domain.Event) *Setup {
	s := New()
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

// ID is the setup ID.
func (s *Setup) ID() string { return s.id }

// ApplicationID is the received application.
func (s *Setup) ApplicationID() string { return s.applicationID }

// StoreID is the store doing the setup.
func (s *Setup) StoreID() string { return s.storeID }

// NextStep is the step expected next (StepStart before Start, StepDone after
// the completion notice).
func (s *Setup) NextStep() Step { return s.next }

// IdentityFailed reports whether the identity check failed (the setup is halted).
func (s *Setup) IdentityFailed() bool { return s.identityFailed }

// Multiple is the several-OBUs answer.
func (s *Setup) Multiple() bool { return s.multiple }

// Vehicle is the last recorded vehicle data (zero if none).
func (s *Setup) Vehicle() VehicleRecorded { return s.vehicle }

// OBU is the last recorded OBU data (zero if none).
func (s *Setup) OBU() OBURecorded { return s.obu }

// expect checks that step may be done now.
func (s *Setup) expect(step Step) error {
	switch {
	case s.next == StepStart:
		return ErrNotStarted
	case s.next == StepDone:
		return ErrAlreadyCompleted
	case s.identityFailed:
		return ErrIdentityNotConfirmed
	}
	ok := s.next == step ||
		// corrections before the card is written
		step == StepVehicle && (s.next == StepOBU || s.next == StepCard) ||
		step == StepOBU && s.next == StepCard
	if !ok {
		return ErrStepOutOfOrder.Withf("", "The next step is %s; %s cannot be done now.", s.next, step)
	}
	return nil
}

func isToken(v string) bool {
	if len(v) == 0 || len(v) > 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

func blank(v string) bool { return strings.TrimSpace(v) == "" }

// Start begins a setup for an application the store has just received
// (application.Received); the command layer checks the reception.
type Start struct {
	SetupID       string
	ApplicationID string
	StoreID       string
	StaffID       string
}

// Start decides starting the setup.
func (s *Setup) Start(cmd Start, now time.Time) ([]domain.Event, error) {
	if s.next != StepStart {
		return nil, ErrAlreadyStarted.With("setup_id", "")
	}
	switch {
	case !isToken(cmd.SetupID):
		return nil, ErrInvalidSetupID.With("setup_id", "")
	case blank(cmd.ApplicationID):
		return nil, ErrMissingApplication.With("application_id", "")
	case blank(cmd.StoreID):
		return nil, ErrMissingStore.With("store_id", "")
	case blank(cmd.StaffID):
		return nil, ErrMissingStaff.With("staff_id", "")
	}
	return []domain.Event{Started{SetupID: cmd.SetupID, ApplicationID: cmd.ApplicationID, StoreID: cmd.StoreID, StaffID: cmd.StaffID, At: now}}, nil
}

// RecordVisitor records who came (step 1). For VisitorOther, Name,
// IDDocumentType and DocumentChecked are required; for the user or agent
// they are optional.
type RecordVisitor struct {
	Kind            VisitorKind
	Name            string
	IDDocumentType  string
	DocumentChecked bool
}

// RecordVisitor decides step 1.
func (s *Setup) RecordVisitor(cmd RecordVisitor, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepVisitor); err != nil {
		return nil, err
	}
	if err := domain.CheckLengths(domain.LengthCheck{Field: "name", Value: cmd.Name, Max: domain.MaxNameLength},
		domain.LengthCheck{Field: "id_document_type", Value: cmd.IDDocumentType, Max: domain.MaxShortText}); err != nil {
		return nil, err
	}
	switch cmd.Kind {
	case VisitorUser, VisitorAgent:
	case VisitorOther:
		switch {
		case blank(cmd.Name):
			return nil, ErrMissingVisitorName.With("name", "")
		case blank(cmd.IDDocumentType):
			return nil, ErrMissingIDDocument.With("id_document_type", "")
		case !cmd.DocumentChecked:
			return nil, ErrIDDocumentNotChecked.With("document_checked", "")
		}
	default:
		return nil, ErrInvalidVisitorKind.With("kind", "")
	}
	return []domain.Event{VisitorRecorded{
		SetupID:         s.id,
		Kind:            cmd.Kind,
		Visitor:         domain.Seal(s.applicationID, Visitor{Name: strings.TrimSpace(cmd.Name), IDDocumentType: strings.TrimSpace(cmd.IDDocumentType)}),
		DocumentChecked: cmd.DocumentChecked,
		At:              now,
	}}, nil
}

// CheckIdentity records the identity check (step 2). Method is how identity
// was checked; Passed false halts the setup for good.
type CheckIdentity struct {
	Passed bool
	Method string
	Note   string
	// Set by the My Number card check (MethodJPKI) only, which verifies
	// the card; never taken from a request body.
	CertificateSerial string `json:"-"`
	CertificateIssuer string `json:"-"`
}

// MethodJPKI is the identity check with the My Number card's public
// personal authentication (JPKI user-authentication certificate).
const MethodJPKI = "jpki_user_authentication"

// CheckIdentity decides step 2.
func (s *Setup) CheckIdentity(cmd CheckIdentity, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepIdentity); err != nil {
		return nil, err
	}
	if err := domain.CheckLengths(domain.LengthCheck{Field: "method", Value: cmd.Method, Max: domain.MaxShortText},
		domain.LengthCheck{Field: "note", Value: cmd.Note, Max: domain.MaxNoteLength}); err != nil {
		return nil, err
	}
	if blank(cmd.Method) {
		return nil, ErrMissingIdentityMethod.With("method", "")
	}
	if strings.TrimSpace(cmd.Method) == MethodJPKI && (cmd.CertificateSerial == "" || cmd.CertificateIssuer == "") {
		return nil, ErrUnverifiedJPKI.With("method", "")
	}
	return []domain.Event{IdentityChecked{
		SetupID: s.id, Passed: cmd.Passed,
		Check: domain.Seal(s.applicationID, IdentityCheck{Method: strings.TrimSpace(cmd.Method), Note: strings.TrimSpace(cmd.Note),
			CertificateSerial: cmd.CertificateSerial, CertificateIssuer: cmd.CertificateIssuer}),
		At: now,
	}}, nil
}

// AnswerMultipleUnits records whether several OBUs are installed (step 3).
type AnswerMultipleUnits struct {
	Multiple bool
}

// AnswerMultipleUnits decides step 3.
func (s *Setup) AnswerMultipleUnits(cmd AnswerMultipleUnits, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepMultipleUnits); err != nil {
		return nil, err
	}
	return []domain.Event{MultipleUnitsAnswered{SetupID: s.id, Multiple: cmd.Multiple, At: now}}, nil
}

// RecordVehicle records vehicle data (step 4; repeatable as a correction
// until the card is written). Build it by hand or with ParseInspectionQR.
// TypeDesignationNumber (型式指定番号, 5 digits) and CategoryNumber
// (類別区分番号, 3–4 digits) are required for SourceTypeDesignation and
// optional otherwise, but come as a pair. Full-width digits are accepted.
type RecordVehicle struct {
	Source                VehicleSource
	Plate                 string
	TypeDesignationNumber string
	CategoryNumber        string
	GrossWeightKg         int
	Towing                bool
	VehicleType           string
}

// validate returns the normalised event fields (SetupID and At unset).
func (cmd RecordVehicle) validate() (VehicleRecorded, error) {
	switch cmd.Source {
	case SourceInspectionQR, SourceTypeDesignation, SourceManual:
	default:
		return VehicleRecorded{}, ErrInvalidVehicleSource.With("source", "")
	}
	plate, err := ParsePlate(cmd.Plate)
	if err != nil {
		return VehicleRecorded{}, err
	}
	td := strings.TrimSpace(normalizeWidth(cmd.TypeDesignationNumber))
	cat := strings.TrimSpace(normalizeWidth(cmd.CategoryNumber))
	if td != "" || cat != "" || cmd.Source == SourceTypeDesignation {
		if len(td) != 5 || !allDigits(td) {
			return VehicleRecorded{}, ErrInvalidTypeDesignation.With("type_designation_number", "")
		}
		if len(cat) < 3 || len(cat) > 4 || !allDigits(cat) {
			return VehicleRecorded{}, ErrInvalidCategoryNumber.With("category_number", "")
		}
	}
	if cmd.GrossWeightKg < 1 || cmd.GrossWeightKg > 200000 {
		return VehicleRecorded{}, ErrInvalidGrossWeight.With("gross_weight_kg", "")
	}
	vt := strings.TrimSpace(cmd.VehicleType)
	if vt == "" || utf8.RuneCountInString(vt) > 40 {
		return VehicleRecorded{}, ErrMissingVehicleType.With("vehicle_type", "")
	}
	return VehicleRecorded{
		Source: cmd.Source, Plate: domain.Seal("", plate), TypeDesignationNumber: td, CategoryNumber: cat,
		GrossWeightKg: cmd.GrossWeightKg, Towing: cmd.Towing, VehicleType: vt,
	}, nil
}

// RecordVehicle decides step 4.
func (s *Setup) RecordVehicle(cmd RecordVehicle, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepVehicle); err != nil {
		return nil, err
	}
	e, err := cmd.validate()
	if err != nil {
		return nil, err
	}
	e.SetupID, e.At = s.id, now
	e.Plate.Subject = s.applicationID
	return []domain.Event{e}, nil
}

// RecordOBU records the OBU (step 5; repeatable until the card is written).
// Number is the management number as typed or read from the OBU's QR.
type RecordOBU struct {
	Kind   OBUKind
	Number string
}

// RecordOBU decides step 5.
func (s *Setup) RecordOBU(cmd RecordOBU, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepOBU); err != nil {
		return nil, err
	}
	if cmd.Kind != OBUKindETC && cmd.Kind != OBUKindETC2 {
		return nil, ErrInvalidOBUKind.With("kind", "")
	}
	n, err := ParseOBUNumber(cmd.Number)
	if err != nil {
		return nil, err
	}
	return []domain.Event{OBURecorded{SetupID: s.id, Kind: cmd.Kind, Number: domain.Seal(s.applicationID, n), Security: n.SecurityStandard(), At: now}}, nil
}

// WriteCard records that the setup card was written (step 6): its serial and
// a hash of the bytes written (computed by the tablet adapter).
type WriteCard struct {
	CardSerial  string
	WrittenHash string
	StaffID     string
}

// WriteCard decides step 6. After it, vehicle and OBU data are frozen.
func (s *Setup) WriteCard(cmd WriteCard, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepCard); err != nil {
		return nil, err
	}
	if err := domain.CheckLengths(domain.LengthCheck{Field: "card_serial", Value: cmd.CardSerial, Max: domain.MaxShortText},
		domain.LengthCheck{Field: "written_hash", Value: cmd.WrittenHash, Max: domain.MaxShortText}); err != nil {
		return nil, err
	}
	switch {
	case blank(cmd.CardSerial):
		return nil, ErrMissingCardSerial.With("card_serial", "")
	case blank(cmd.WrittenHash):
		return nil, ErrMissingWrittenHash.With("written_hash", "")
	case blank(cmd.StaffID):
		return nil, ErrMissingStaff.With("staff_id", "")
	}
	return []domain.Event{CardWritten{SetupID: s.id, CardSerial: strings.TrimSpace(cmd.CardSerial), WrittenHash: strings.TrimSpace(cmd.WrittenHash), StaffID: cmd.StaffID, At: now}}, nil
}

// Execute records that the setup ran on the OBU (step 7).
type Execute struct {
	StaffID string
}

// Execute decides step 7.
func (s *Setup) Execute(cmd Execute, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepExecute); err != nil {
		return nil, err
	}
	if blank(cmd.StaffID) {
		return nil, ErrMissingStaff.With("staff_id", "")
	}
	return []domain.Event{Executed{SetupID: s.id, StaffID: cmd.StaffID, At: now}}, nil
}

// NotifyCompletion sends the completion notice (step 8).
type NotifyCompletion struct {
	StaffID string
}

// NotifyCompletion decides step 8. The setup date is now's Japan-time date.
func (s *Setup) NotifyCompletion(cmd NotifyCompletion, now time.Time) ([]domain.Event, error) {
	if err := s.expect(StepNotify); err != nil {
		return nil, err
	}
	if blank(cmd.StaffID) {
		return nil, ErrMissingStaff.With("staff_id", "")
	}
	return []domain.Event{CompletionNotified{
		SetupID: s.id, ApplicationID: s.applicationID, StoreID: s.storeID, StaffID: cmd.StaffID,
		OBUKind: s.obu.Kind, OBUNumber: domain.Seal(s.applicationID, s.obu.Number.Value), Security: s.obu.Security,
		Plate: domain.Seal(s.applicationID, s.vehicle.Plate.Value), VehicleType: s.vehicle.VehicleType,
		GrossWeightKg: s.vehicle.GrossWeightKg, Towing: s.vehicle.Towing,
		SetupDate: domain.DateOf(now), At: now,
	}}, nil
}

// Apply evolves the setup by one event; it never fails.
func (s *Setup) Apply(e domain.Event) {
	switch e := e.(type) {
	case Started:
		s.id, s.applicationID, s.storeID, s.next = e.SetupID, e.ApplicationID, e.StoreID, StepVisitor
	case VisitorRecorded:
		s.next = StepIdentity
	case IdentityChecked:
		s.identityFailed = !e.Passed
		s.next = StepMultipleUnits
	case MultipleUnitsAnswered:
		s.multiple, s.next = e.Multiple, StepVehicle
	case VehicleRecorded:
		s.vehicle = e
		if s.next < StepOBU {
			s.next = StepOBU
		}
	case OBURecorded:
		s.obu, s.next = e, StepCard
	case CardWritten:
		s.card, s.next = e, StepExecute
	case Executed:
		s.next = StepNotify
	case CompletionNotified:
		s.next = StepDone
	}
}
