package application

import (
	"sort"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// String names the status as views and audits show it.
func (s Status) String() string {
	switch s {
	case StatusCompleted:
		return "completed"
	case StatusReceived:
		return "received"
	case StatusExpired:
		return "expired"
	case StatusRetentionEnded:
		return "retention_ended"
	}
	return "none"
}

// Snapshot is a read-only view of an application's state (for auditors'
// as-of reads). Details stay a Personal value: erased once shredded. The
// passcode hash is left out.
type Snapshot struct {
	ApplicationID     string                   `json:"application_id"`
	Status            string                   `json:"status"`
	Details           domain.Personal[Details] `json:"details"`
	Acceptances       Acceptances              `json:"acceptances"`
	Units             int                      `json:"units"`
	CompletedAt       time.Time                `json:"completed_at,omitzero"`
	ReceptionDeadline time.Time                `json:"reception_deadline,omitzero"`
	RetentionEnd      time.Time                `json:"retention_end,omitzero"`
	ByProxy           bool                     `json:"by_proxy"`
	ConsentID         string                   `json:"consent_id,omitempty"`
	FilingStore       string                   `json:"filing_store,omitempty"`
	AppliedStore      string                   `json:"applied_store,omitempty"`
	ReceivedAt        time.Time                `json:"received_at,omitzero"`
	ReceivingStore    string                   `json:"receiving_store,omitempty"`
	// PasscodeFailures is the highest count of wrong passcodes of any lock
	// (a store's reception, the customer login); Locked whether any lock is
	// set, LockedFor which: store IDs, "customer_login", or "*" for a lock
	// recorded before locks were per store.
	PasscodeFailures int      `json:"passcode_failures"`
	Locked           bool     `json:"locked"`
	LockedFor        []string `json:"locked_for,omitempty"`
}

// Snapshot returns the application's state as a value.
func (a *Application) Snapshot() Snapshot {
	s := Snapshot{ApplicationID: a.id.String(), Status: a.status.String(), Details: a.details, Acceptances: a.acceptances,
		Units: a.units, CompletedAt: a.completedAt, ByProxy: a.byProxy, ConsentID: a.consentID, FilingStore: a.filingStore, AppliedStore: a.appliedStore,
		ReceivedAt: a.receivedAt, ReceivingStore: a.receiver, Locked: a.Locked()}
	for _, n := range a.failures {
		s.PasscodeFailures = max(s.PasscodeFailures, n)
	}
	if a.lockedAll {
		s.LockedFor = append(s.LockedFor, "*")
	}
	for k := range a.locks {
		if k == "" {
			k = "customer_login"
		}
		s.LockedFor = append(s.LockedFor, k)
	}
	sort.Strings(s.LockedFor)
	if !a.completedAt.IsZero() {
		s.ReceptionDeadline, s.RetentionEnd = a.ReceptionDeadline(), a.RetentionEnd()
	}
	return s
}

// ConsentSnapshot is a read-only view of a proxy consent's state.
type ConsentSnapshot struct {
	ConsentID    string                          `json:"consent_id"`
	StoreID      string                          `json:"store_id"`
	Units        int                             `json:"units"`
	UnitsUsed    int                             `json:"units_used"`
	Filings      []ConsentFiling                 `json:"filings"`
	ValidFrom    domain.Date                     `json:"valid_from,omitzero"`
	ValidTo      domain.Date                     `json:"valid_to,omitzero"`
	RecordedAt   time.Time                       `json:"recorded_at,omitzero"`
	LastUsedAt   time.Time                       `json:"last_used_at,omitzero"`
	RetentionEnd time.Time                       `json:"retention_end,omitzero"`
	Ended        bool                            `json:"retention_ended"`
	Parties      domain.Personal[ConsentParties] `json:"parties"`
}

// ConsentFiling is one application filed under a consent and the unit it used.
type ConsentFiling struct {
	ApplicationID string `json:"application_id"`
	Unit          int    `json:"unit"`
}

// Snapshot returns the consent's state as a value (filings in unit order).
func (c *ProxyConsent) Snapshot() ConsentSnapshot {
	s := ConsentSnapshot{ConsentID: c.id, StoreID: c.storeID, Units: c.units, UnitsUsed: len(c.usedBy), Filings: []ConsentFiling{},
		ValidFrom: c.validFrom, ValidTo: c.validTo, RecordedAt: c.recordedAt, LastUsedAt: c.lastUsedAt, Ended: c.erased, Parties: c.parties}
	for app, unit := range c.usedBy {
		s.Filings = append(s.Filings, ConsentFiling{ApplicationID: app, Unit: unit})
	}
	sort.Slice(s.Filings, func(i, j int) bool { return s.Filings[i].Unit < s.Filings[j].Unit })
	if c.recorded {
		s.RetentionEnd = c.RetentionEnd()
	}
	return s
}
