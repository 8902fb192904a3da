package setup

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Event type names, stored on disk: never change a value.
const (
	EventStarted               = "setup.started"
	EventVisitorRecorded       = "setup.visitor_recorded"
	EventIdentityChecked       = "setup.identity_checked"
	EventMultipleUnitsAnswered = "setup.multiple_units_answered"
	EventVehicleRecorded       = "setup.vehicle_recorded"
	EventOBURecorded           = "setup.obu_recorded"
	EventCardWritten           = "setup.card_written"
	EventExecuted              = "setup.executed"
	EventCompletionNotified    = "setup.completion_notified"
)

// EventTypes lists every event type of this package, for codec registration.
func EventTypes() []string {
	return []string{
		EventStarted, EventVisitorRecorded, EventIdentityChecked, EventMultipleUnitsAnswered,
		EventVehicleRecorded, EventOBURecorded, EventCardWritten, EventExecuted, EventCompletionNotified,
	}
}

// Started: a store received an application and began a setup.
type Started struct {
	SetupID       string    `json:"setup_id"`
	ApplicationID string    `json:"application_id"`
	StoreID       string    `json:"store_id"`
	StaffID       string    `json:"staff_id"`
	At            time.Time `json:"at"`
}

// Visitor is who came to the store (personal data).
type Visitor struct {
	Name string `json:"name,omitempty"`
	// IDDocumentType is the identity document shown (運転免許証, マイナンバーカード…).
	IDDocumentType string `json:"id_document_type,omitempty"`
}

// VisitorKind says who came: the vehicle user, the designated agent, or another person.
type VisitorKind string

const (
	VisitorUser  VisitorKind = "user"  // 車検証上の使用者本人
	VisitorAgent VisitorKind = "agent" // 指定された代理人
	VisitorOther VisitorKind = "other" // anyone else: identity document checked and recorded
)

// VisitorRecorded: step 1, who came. Personal subject: the application ID.
type VisitorRecorded struct {
	SetupID         string                   `json:"setup_id"`
	Kind            VisitorKind              `json:"kind"`
	Visitor         domain.Personal[Visitor] `json:"visitor"`
	DocumentChecked bool                     `json:"document_checked"`
	At              time.Time                `json:"at"`
}

// IdentityCheck is how identity was checked (personal data).
type IdentityCheck struct {
	Method string `json:"method"`
	Note   string `json:"note,omitempty"`
	// With a My Number card (method MethodJPKI): the user-authentication
	// certificate's serial and issuer, nothing of the card holder.
	CertificateSerial string `json:"certificate_serial,omitempty"`
	CertificateIssuer string `json:"certificate_issuer,omitempty"`
}

// IdentityChecked: step 2, the identity check (本人確認) against the
// applicant/agent data. Passed false halts the setup.
type IdentityChecked struct {
	SetupID string                         `json:"setup_id"`
	Passed  bool                           `json:"passed"`
	Check   domain.Personal[IdentityCheck] `json:"check"`
	At      time.Time                      `json:"at"`
}

// MultipleUnitsAnswered: step 3, whether several OBUs are being installed
// (車載器の複数台取付け有無確認).
type MultipleUnitsAnswered struct {
	SetupID  string    `json:"setup_id"`
	Multiple bool      `json:"multiple"`
	At       time.Time `json:"at"`
}

// VehicleRecorded: step 4 (repeatable until the card is written). The plate
// identifies a vehicle and, with its owner, a person: it is personal data
// of the application (subject: the application ID), erased with it.
type VehicleRecorded struct {
	SetupID               string                       `json:"setup_id"`
	Source                VehicleSource                `json:"source"`
	Plate                 domain.Personal[PlateNumber] `json:"plate"`
	TypeDesignationNumber string                       `json:"type_designation_number,omitempty"`
	CategoryNumber        string                       `json:"category_number,omitempty"`
	GrossWeightKg         int                          `json:"gross_weight_kg"`
	Towing                bool                         `json:"towing"`
	VehicleType           string                       `json:"vehicle_type"`
	At                    time.Time                    `json:"at"`
}

// OBURecorded: step 5 (repeatable until the card is written). The OBU
// management number is personal like the plate (subject: the application ID).
type OBURecorded struct {
	SetupID  string                     `json:"setup_id"`
	Kind     OBUKind                    `json:"kind"`
	Number   domain.Personal[OBUNumber] `json:"number"`
	Security SecurityStandard           `json:"security"`
	At       time.Time                  `json:"at"`
}

// CardWritten: step 6, the setup card (セットアップカード) was written.
type CardWritten struct {
	SetupID     string    `json:"setup_id"`
	CardSerial  string    `json:"card_serial"`
	WrittenHash string    `json:"written_hash"`
	StaffID     string    `json:"staff_id"`
	At          time.Time `json:"at"`
}

// Executed: step 7, the setup ran on the OBU.
type Executed struct {
	SetupID string    `json:"setup_id"`
	StaffID string    `json:"staff_id"`
	At      time.Time `json:"at"`
}

// CompletionNotified: step 8, the completion notice (セットアップ完了通知).
// It carries everything a setup certificate shows, so the certificate can be
// issued from this event alone.
type CompletionNotified struct {
	SetupID       string                       `json:"setup_id"`
	ApplicationID string                       `json:"application_id"`
	StoreID       string                       `json:"store_id"`
	StaffID       string                       `json:"staff_id"`
	OBUKind       OBUKind                      `json:"obu_kind"`
	OBUNumber     domain.Personal[OBUNumber]   `json:"obu_number"`
	Security      SecurityStandard             `json:"security"`
	Plate         domain.Personal[PlateNumber] `json:"plate"`
	VehicleType   string                       `json:"vehicle_type"`
	GrossWeightKg int                          `json:"gross_weight_kg"`
	Towing        bool                         `json:"towing"`
	SetupDate     domain.Date                  `json:"setup_date"`
	At            time.Time                    `json:"at"`
}

func (Started) EventType() string               { return EventStarted }
func (VisitorRecorded) EventType() string       { return EventVisitorRecorded }
func (IdentityChecked) EventType() string       { return EventIdentityChecked }
func (MultipleUnitsAnswered) EventType() string { return EventMultipleUnitsAnswered }
func (VehicleRecorded) EventType() string       { return EventVehicleRecorded }
func (OBURecorded) EventType() string           { return EventOBURecorded }
func (CardWritten) EventType() string           { return EventCardWritten }
func (Executed) EventType() string              { return EventExecuted }
func (CompletionNotified) EventType() string    { return EventCompletionNotified }
