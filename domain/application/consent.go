package application

import (
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// ProxyConsent is the proxy consent (委任状) aggregate: the record that a
// customer delegated the ETC/ETC2.0 OBU setup application to one store. It
// lives in this package because it exists only to authorise proxy filings.
// One consent covers Units applications (several vehicles of one customer)
// within [ValidFrom, ValidTo]; each FileByProxy consumes one unit via Use.
// Its record is kept 5 years after its last use (or its recording if unused).
type ProxyConsent struct {
	id         string
	recorded   bool
	erased     bool
	storeID    string
	units      int
	validFrom  domain.Date
	validTo    domain.Date
	recordedAt time.Time
	lastUsedAt time.Time
	usedBy     map[string]int // application ID → unit number
	parties    domain.Personal[ConsentParties]
}

// NewProxyConsent returns a consent with no history.
func NewProxyConsent() *ProxyConsent { return &ProxyConsent{} }

// LoadProxyConsent replays events into a new consent.
func LoadProxyConsent(events []domain.Event) *ProxyConsent {
	c := NewProxyConsent()
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

// ID is the consent ID.
func (c *ProxyConsent) ID() string { return c.id }

// StoreID is the store the customer delegated to.
func (c *ProxyConsent) StoreID() string { return c.storeID }

// Units is the number of applications the consent covers.
func (c *ProxyConsent) Units() int { return c.units }

// UnitsUsed is the number of units consumed.
func (c *ProxyConsent) UnitsUsed() int { return len(c.usedBy) }

// UnitUsedBy returns the unit number consumed by the application, if any.
func (c *ProxyConsent) UnitUsedBy(app ID) (int, bool) {
	n, ok := c.usedBy[app.String()]
	return n, ok
}

// Parties is the consent's personal data.
func (c *ProxyConsent) Parties() domain.Personal[ConsentParties] { return c.parties }

// RetentionEnd is 5 years after the last use (or the recording if unused).
func (c *ProxyConsent) RetentionEnd() time.Time {
	t := c.recordedAt
	if c.lastUsedAt.After(t) {
		t = c.lastUsedAt
	}
	return t.In(domain.Tokyo).AddDate(RetentionYears, 0, 0)
}

// RecordConsent records a proxy consent (委任状) with every item the rules
// require. Units defaults to nothing: it must be ≥ 1. A consent for more
// than one unit must state its period; a single-unit consent may leave the
// period empty (valid without a date limit).
type RecordConsent struct {
	ConsentID   string
	StoreID     string
	StaffID     string
	RequestDate domain.Date // 依頼日
	Applicant   Applicant   // address, name, contact; corporation name + person in charge
	Agent       *Agent      // nil when there is no agent
	Acceptances Acceptances // the four regulations
	// DelegatesSetupApplication must be true: the applicant delegates the
	// ETC/ETC2.0 OBU setup application to the store.
	DelegatesSetupApplication bool
	// SignedPDF optionally references the scanned, signed consent (a storage
	// key or a SHA-256 of the PDF); the original or PDF is kept 5 years.
	SignedPDF string
	Units     int
	ValidFrom domain.Date
	ValidTo   domain.Date
}

// Record decides recording a consent.
func (c *ProxyConsent) Record(cmd RecordConsent, now time.Time) ([]domain.Event, error) {
	if c.recorded {
		return nil, ErrConsentExists.With("consent_id", "")
	}
	if !isToken(cmd.ConsentID) {
		return nil, ErrInvalidConsentID.With("consent_id", "")
	}
	if err := validateActor(cmd.StoreID, cmd.StaffID); err != nil {
		return nil, err
	}
	if cmd.RequestDate.IsZero() {
		return nil, ErrMissingRequestDate.With("request_date", "")
	}
	if err := validateApplicant(cmd.Applicant, "applicant", false); err != nil {
		return nil, err
	}
	if err := validateAgent(cmd.Agent, "agent"); err != nil {
		return nil, err
	}
	if err := cmd.Acceptances.Validate(); err != nil {
		return nil, err
	}
	if !cmd.DelegatesSetupApplication {
		return nil, ErrNoDelegation.With("delegates_setup_application", "")
	}
	if cmd.Units < 1 {
		return nil, ErrInvalidUnits.With("units", "A proxy consent (委任状) must cover at least 1 unit.")
	}
	if cmd.ValidFrom.IsZero() != cmd.ValidTo.IsZero() {
		return nil, ErrInvalidConsentPeriod.With("valid_from", "Give both the first and the last day of the consent's period, or neither.")
	}
	if cmd.Units > 1 && cmd.ValidFrom.IsZero() {
		return nil, ErrInvalidConsentPeriod.With("valid_from", "")
	}
	if cmd.ValidTo.Before(cmd.ValidFrom) {
		return nil, ErrInvalidConsentPeriod.With("valid_to", "The last day of the consent's period is before its first day.")
	}
	return []domain.Event{ConsentRecorded{
		ConsentID:   cmd.ConsentID,
		StoreID:     cmd.StoreID,
		StaffID:     cmd.StaffID,
		RequestDate: cmd.RequestDate,
		Parties: domain.Seal(cmd.ConsentID, ConsentParties{
			Applicant: cmd.Applicant, Agent: cmd.Agent,
		}),
		Acceptances:               cmd.Acceptances,
		DelegatesSetupApplication: true,
		SignedPDF:                 strings.TrimSpace(cmd.SignedPDF),
		Units:                     cmd.Units,
		ValidFrom:                 cmd.ValidFrom,
		ValidTo:                   cmd.ValidTo,
		RecordedAt:                now,
	}}, nil
}

// UseConsent consumes one unit for a proxy filing by StoreID for Applicant.
type UseConsent struct {
	ApplicationID ID
	StoreID       string
	// Applicant is the filing's applicant: it must be the one who gave the
	// consent (same corporate name and name, spaces aside), since a consent
	// covers several vehicles of one customer, never another customer.
	Applicant Applicant
}

// Use decides consuming one unit. The same application using the consent
// again yields no events (retry-safe; read the unit with UnitUsedBy). The
// period is checked on now's Japan-time date, both ends inclusive.
func (c *ProxyConsent) Use(cmd UseConsent, now time.Time) ([]domain.Event, error) {
	if !c.recorded {
		return nil, ErrConsentNotFound
	}
	if c.erased {
		return nil, ErrConsentErased
	}
	if cmd.ApplicationID.IsZero() {
		return nil, ErrInvalidID.With("application_id", "")
	}
	if cmd.StoreID != c.storeID {
		return nil, ErrConsentOtherStore.With("store_id", "")
	}
	if !sameParty(c.parties.Value.Applicant, cmd.Applicant) {
		return nil, ErrConsentOtherApplicant.With("details.applicant.name", "")
	}
	if _, ok := c.usedBy[cmd.ApplicationID.String()]; ok {
		return nil, nil
	}
	if !c.validFrom.IsZero() {
		today := domain.DateOf(now)
		if today.Before(c.validFrom) {
			return nil, ErrConsentNotYetValid.Withf("", "The period of this proxy consent (委任状) starts on %s; file by proxy on or after that day.", c.validFrom)
		}
		if c.validTo.Before(today) {
			return nil, ErrConsentPeriodOver.Withf("", "The period of this proxy consent (委任状) ended on %s; obtain a new consent from the customer.", c.validTo)
		}
	}
	if len(c.usedBy) >= c.units {
		return nil, ErrConsentUsedUp.Withf("", "All %d units covered by this proxy consent (委任状) have been used; obtain a new consent from the customer.", c.units)
	}
	return []domain.Event{ConsentUnitUsed{
		ConsentID: c.id, ApplicationID: cmd.ApplicationID, Unit: len(c.usedBy) + 1, At: now,
	}}, nil
}

// EndRetention ends the consent's 5-year retention. Already ended: no events.
func (c *ProxyConsent) EndRetention(now time.Time) ([]domain.Event, error) {
	if !c.recorded {
		return nil, ErrConsentNotFound
	}
	if c.erased {
		return nil, nil
	}
	if now.Before(c.RetentionEnd()) {
		return nil, ErrRetentionNotDue.Withf("", "The proxy consent (委任状) is kept until %s (5 years from its last use).", c.RetentionEnd().Format(time.RFC3339))
	}
	return []domain.Event{ConsentRetentionEnded{ConsentID: c.id, EndedAt: now}}, nil
}

// Apply evolves the consent by one event; it never fails.
func (c *ProxyConsent) Apply(e domain.Event) {
	switch e := e.(type) {
	case ConsentRecorded:
		c.id, c.recorded, c.storeID = e.ConsentID, true, e.StoreID
		c.units, c.validFrom, c.validTo = e.Units, e.ValidFrom, e.ValidTo
		c.recordedAt, c.parties = e.RecordedAt, e.Parties
		c.usedBy = map[string]int{}
	case ConsentUnitUsed:
		if c.usedBy == nil {
			c.usedBy = map[string]int{}
		}
		c.usedBy[e.ApplicationID.String()] = e.Unit
		c.lastUsedAt = e.At
	case ConsentRetentionEnded:
		c.erased = true
		c.parties = domain.Personal[ConsentParties]{Subject: c.id, Erased: true}
	}
}

// sameParty reports whether two applicants name the same person or
// corporation: corporate name and name equal once spaces (full-width too)
// are removed.
func sameParty(a, b Applicant) bool {
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return squeeze(a.CorporationName) == squeeze(b.CorporationName) && squeeze(a.Name) == squeeze(b.Name)
}
