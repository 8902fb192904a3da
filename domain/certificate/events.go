package certificate

import (
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// Event type names, stored on disk: never change a value.
const (
	EventIssued       = "certificate.issued"
	EventLinkSent     = "certificate.link_sent"
	EventLinkReissued = "certificate.link_reissued"
	EventDownloaded   = "certificate.downloaded"
	EventPrinted      = "certificate.printed"
)

// EventTypes lists every event type of this package that is stored; a test
// in cmd/gantry/app checks it against what the codec can decode.
func EventTypes() []string {
	return []string{EventIssued, EventLinkSent, EventLinkReissued, EventDownloaded, EventPrinted, EventLinkSecretSealed}
}

// Content is what a setup certificate shows. Its plate and OBU management
// number are personal data of the application (a plate identifies a vehicle
// and, with its owner, a person): Issued carries them sealed, apart from
// the rest of the content.
type Content struct {
	Number        string      `json:"number"`
	OBUNumber     string      `json:"obu_number"`
	VehicleType   string      `json:"vehicle_type"`
	Plate         string      `json:"plate"`
	GrossWeightKg int         `json:"gross_weight_kg"`
	Towing        bool        `json:"towing"`
	SetupDate     domain.Date `json:"setup_date"`
	StoreID       string      `json:"store_id"`
}

// VehicleIDs are a certificate's personal items.
type VehicleIDs struct {
	Plate     string `json:"plate"`
	OBUNumber string `json:"obu_number"`
}

// Issued: the certificate was issued on the completion notice. Content has
// an empty plate and OBU number: they are in Vehicle, sealed under the
// application (subject: ApplicationID), and are erased with it.
// VerificationCode is the code printed on the certificate, recorded so
// that the public check keeps working after the erasure (schema v1 events
// have none: it is computed from their content).
type Issued struct {
	Content          Content                     `json:"content"`
	Vehicle          domain.Personal[VehicleIDs] `json:"vehicle"`
	VerificationCode string                      `json:"verification_code,omitempty"`
	SetupID          string                      `json:"setup_id"`
	ApplicationID    string                      `json:"application_id"`
	At               time.Time                   `json:"at"`
}

// FullContent is the certificate's content with its plate and OBU number,
// or with both empty once they are erased.
func (e Issued) FullContent() Content {
	c := e.Content
	if !e.Vehicle.Erased {
		c.Plate, c.OBUNumber = e.Vehicle.Value.Plate, e.Vehicle.Value.OBUNumber
	}
	return c
}

// LinkSent: the download link was mailed. Valid while now < ExpiresAt (SentAt + 60 days).
type LinkSent struct {
	Number    string    `json:"number"`
	Token     string    `json:"token"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LinkReissued: a new link replaced the old one, which is dead from now on.
type LinkReissued struct {
	Number    string    `json:"number"`
	Token     string    `json:"token"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Downloaded: the customer downloaded the certificate; Count is the running total.
type Downloaded struct {
	Number string    `json:"number"`
	Count  int       `json:"count"`
	At     time.Time `json:"at"`
}

// Printed: store staff printed the certificate (required after proxy filing).
type Printed struct {
	Number  string    `json:"number"`
	StoreID string    `json:"store_id"`
	StaffID string    `json:"staff_id"`
	At      time.Time `json:"at"`
}

func (Issued) EventType() string       { return EventIssued }
func (LinkSent) EventType() string     { return EventLinkSent }
func (LinkReissued) EventType() string { return EventLinkReissued }
func (Downloaded) EventType() string   { return EventDownloaded }
func (Printed) EventType() string      { return EventPrinted }
