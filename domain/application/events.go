package application

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Event type names. They are stored on disk: never change a value, add a new
// constant (and event version) instead.
const (
	EventCompleted         = "application.completed"
	EventFiledByProxy      = "application.filed_by_proxy"
	EventPasscodeRejected  = "application.passcode_rejected"
	EventReceptionLocked   = "application.reception_locked"
	EventReceptionUnlocked = "application.reception_unlocked"
	EventReceived          = "application.received"
	EventExpired           = "application.expired"
	EventRetentionEnded    = "application.retention_ended"

	EventConsentRecorded       = "application.consent_recorded"
	EventConsentUnitUsed       = "application.consent_unit_used"
	EventConsentRetentionEnded = "application.consent_retention_ended"
)

// EventTypes lists every event type of this package that is stored; a test
// in cmd/gantry/app checks it against what the codec can decode.
func EventTypes() []string {
	return []string{
		EventCompleted, EventFiledByProxy, EventPasscodeRejected, EventReceptionLocked,
		EventReceptionUnlocked, EventReceived, EventExpired, EventRetentionEnded,
		EventConsentRecorded, EventConsentUnitUsed, EventConsentRetentionEnded,
		EventPasscodeSealed,
	}
}

// Completed: the customer completed a web application ("申請が完了しました").
type Completed struct {
	ApplicationID ID                       `json:"application_id"`
	Details       domain.Personal[Details] `json:"details"`
	Acceptances   Acceptances              `json:"acceptances"`
	Units         int                      `json:"units"`
	PasscodeHash  string                   `json:"passcode_hash"`
	CompletedAt   time.Time                `json:"completed_at"`
	// StoreID is the setup store named by the QR link the customer applied
	// from ("" when the form was opened without one). Schema version 2.
	StoreID string `json:"store_id,omitempty"`
}

// FiledByProxy: a store filed the application on the customer's behalf
// (代行申請) under a proxy consent (委任状). It completes the application like
// Completed does (same 60-day and 5-year rules).
type FiledByProxy struct {
	ApplicationID ID                       `json:"application_id"`
	Details       domain.Personal[Details] `json:"details"`
	Acceptances   Acceptances              `json:"acceptances"`
	Units         int                      `json:"units"`
	PasscodeHash  string                   `json:"passcode_hash"`
	StoreID       string                   `json:"store_id"`
	StaffID       string                   `json:"staff_id"`
	ConsentID     string                   `json:"consent_id"`
	ConsentUnit   int                      `json:"consent_unit"`
	CompletedAt   time.Time                `json:"completed_at"`
}

// PasscodeRejected: a store tried to receive the application with a wrong
// passcode, or (CustomerLogin, no store or staff) someone tried to log in
// as its customer with one. ConsecutiveFailures counts since the last
// unlock or success, per store (per lock, see ReceptionLocked).
type PasscodeRejected struct {
	ApplicationID       ID        `json:"application_id"`
	StoreID             string    `json:"store_id"`
	StaffID             string    `json:"staff_id"`
	CustomerLogin       bool      `json:"customer_login,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	At                  time.Time `json:"at"`
}

// ReceptionLocked: MaxPasscodeFailures consecutive wrong passcodes locked
// passcode checks for one store (StoreID) or for the customer login
// (CustomerLogin). Events recorded before locks were per store have
// neither: they lock every store and the customer login.
type ReceptionLocked struct {
	ApplicationID ID        `json:"application_id"`
	StoreID       string    `json:"store_id,omitempty"`
	CustomerLogin bool      `json:"customer_login,omitempty"`
	At            time.Time `json:"at"`
}

// ReceptionUnlocked: an operator lifted the lock; the failure count restarts at 0.
type ReceptionUnlocked struct {
	ApplicationID ID        `json:"application_id"`
	By            string    `json:"by"`
	At            time.Time `json:"at"`
}

// Received: a store read the application (受付). RetainUntil is completion + 5 years.
type Received struct {
	ApplicationID ID        `json:"application_id"`
	StoreID       string    `json:"store_id"`
	StaffID       string    `json:"staff_id"`
	ReceivedAt    time.Time `json:"received_at"`
	RetainUntil   time.Time `json:"retain_until"`
}

// Expired: nobody received the application within 60 days of completion. It
// carries no personal data; the command layer shreds the subject afterwards.
type Expired struct {
	ApplicationID ID        `json:"application_id"`
	CompletedAt   time.Time `json:"completed_at"`
	ExpiredAt     time.Time `json:"expired_at"`
}

// RetentionEnded: 5 years from completion have passed for a received
// application. It carries no personal data; the command layer shreds the
// subject afterwards.
type RetentionEnded struct {
	ApplicationID ID        `json:"application_id"`
	CompletedAt   time.Time `json:"completed_at"`
	EndedAt       time.Time `json:"ended_at"`
}

// ConsentParties is the personal part of a proxy consent (委任状).
type ConsentParties struct {
	Applicant Applicant `json:"applicant"`
	Agent     *Agent    `json:"agent,omitempty"`
}

// ConsentRecorded: a store recorded a proxy consent (委任状). Its personal
// data is sealed with the consent ID as subject (one consent may cover
// several applications).
type ConsentRecorded struct {
	ConsentID   string                          `json:"consent_id"`
	StoreID     string                          `json:"store_id"`
	StaffID     string                          `json:"staff_id"`
	RequestDate domain.Date                     `json:"request_date"`
	Parties     domain.Personal[ConsentParties] `json:"parties"`
	Acceptances Acceptances                     `json:"acceptances"`
	// DelegatesSetupApplication: the applicant delegates the ETC/ETC2.0 OBU
	// setup application to the store (always true once recorded).
	DelegatesSetupApplication bool        `json:"delegates_setup_application"`
	SignedPDF                 string      `json:"signed_pdf,omitempty"`
	Units                     int         `json:"units"`
	ValidFrom                 domain.Date `json:"valid_from"`
	ValidTo                   domain.Date `json:"valid_to"`
	RecordedAt                time.Time   `json:"recorded_at"`
}

// ConsentUnitUsed: one proxy application consumed one unit of the consent.
type ConsentUnitUsed struct {
	ConsentID     string    `json:"consent_id"`
	ApplicationID ID        `json:"application_id"`
	Unit          int       `json:"unit"`
	At            time.Time `json:"at"`
}

// ConsentRetentionEnded: the consent's 5 years are over (no personal data).
type ConsentRetentionEnded struct {
	ConsentID string    `json:"consent_id"`
	EndedAt   time.Time `json:"ended_at"`
}

func (Completed) EventType() string             { return EventCompleted }
func (FiledByProxy) EventType() string          { return EventFiledByProxy }
func (PasscodeRejected) EventType() string      { return EventPasscodeRejected }
func (ReceptionLocked) EventType() string       { return EventReceptionLocked }
func (ReceptionUnlocked) EventType() string     { return EventReceptionUnlocked }
func (Received) EventType() string              { return EventReceived }
func (Expired) EventType() string               { return EventExpired }
func (RetentionEnded) EventType() string        { return EventRetentionEnded }
func (ConsentRecorded) EventType() string       { return EventConsentRecorded }
func (ConsentUnitUsed) EventType() string       { return EventConsentUnitUsed }
func (ConsentRetentionEnded) EventType() string { return EventConsentRetentionEnded }
