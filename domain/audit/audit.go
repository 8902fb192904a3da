// Package audit holds the facts of Gantry's audit trail of its own readers:
// every read of history by an auditor (a stream's events, an aggregate as
// of an instant, the proxy consents a store held on a date) is recorded, with
// who, when, what and why, before it is answered.
package audit

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// EventReadRecorded is stored on disk: never change it.
const EventReadRecorded = "audit.read_recorded"

// EventTypes lists every event type of this package that is stored; a test
// in cmd/gantry/app checks it against what the codec can decode.
func EventTypes() []string { return []string{EventReadRecorded} }

// MaxReasonLength is the longest reason accepted, in characters.
const MaxReasonLength = 500

// Query kinds of a recorded read (stored on disk).
const (
	QueryStreamEvents   = "stream_events"
	QueryStreamState    = "stream_state"
	QueryConsentsAsOf   = "consents_as_of"
	QueryConsentChanges = "consent_changes"
	QueryReads          = "audit_reads"
)

var (
	ErrMissingReason = domain.Invalid("missing_reason", "Say why you read this history (reason): every audit read is recorded with its reason.")
	ErrLongReason    = domain.Invalid("reason_too_long", "The reason is longer than 500 characters; say it shorter.")
	ErrMissingReader = domain.Invalid("missing_reader", "An audit read needs the reader's ID and role.")
	ErrMissingQuery  = domain.Invalid("missing_query", "An audit read needs the kind of query it was.")
)

// ReadRecorded: someone read history. It carries no personal data: the
// reader is a staff ID, the target a stream or store ID, and the reason is
// the reader's own words (the README asks not to put names in it).
type ReadRecorded struct {
	ReadID     string            `json:"read_id"`
	ReaderID   string            `json:"reader_id"`
	ReaderRole string            `json:"reader_role"`
	Query      string            `json:"query"`
	Target     string            `json:"target"`
	Params     map[string]string `json:"params,omitempty"`
	Reason     string            `json:"reason"`
	At         time.Time         `json:"at"`
}

func (ReadRecorded) EventType() string { return EventReadRecorded }

// Read is one audit read to record.
type Read struct {
	ReadID     string
	ReaderID   string
	ReaderRole string
	Query      string
	Target     string
	Params     map[string]string
	Reason     string
}

// RecordRead decides recording a read: the reason is required.
func RecordRead(r Read, now time.Time) ([]domain.Event, error) {
	reason := strings.TrimSpace(r.Reason)
	switch {
	case reason == "":
		return nil, ErrMissingReason.With("reason", "")
	case utf8.RuneCountInString(reason) > MaxReasonLength:
		return nil, ErrLongReason.With("reason", "")
	case r.ReaderID == "" || r.ReaderRole == "":
		return nil, ErrMissingReader
	case r.Query == "" || r.ReadID == "":
		return nil, ErrMissingQuery
	}
	return []domain.Event{ReadRecorded{ReadID: r.ReadID, ReaderID: r.ReaderID, ReaderRole: r.ReaderRole, Query: r.Query,
		Target: r.Target, Params: r.Params, Reason: reason, At: now}}, nil
}
