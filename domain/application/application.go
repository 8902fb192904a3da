// Package application is the Application aggregate (申請): a customer's web
// application for ETC on-board-unit setup, or a store's proxy filing
// (代行申請) under a proxy consent (委任状, the ProxyConsent aggregate in
// this package), up to its reception by a store and the end of its data.
//
// Life cycle: Complete or FileByProxy → (PasscodeRejected… ReceptionLocked →
// ReceptionUnlocked)… → Received → RetentionEnded (5 years after completion);
// or, if no store receives it within 60 days of completion, Expired.
//
// Command methods decide and never mutate; Apply is the only mutation.
package application

import (
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
)

// MaxPasscodeFailures is the number of consecutive wrong passcodes after which
// reception is locked (KindLocked) until an operator unlocks it.
const MaxPasscodeFailures = 5

// ReceptionPeriod is how long after completion a store may receive the
// application (60-day rule). Japan has no daylight saving time, so 60×24h is
// exactly 60 calendar days.
const ReceptionPeriod = 60 * 24 * time.Hour

// RetentionYears is how long a received application's data is valid, counted
// from completion (5-year rule).
const RetentionYears = 5

// Status is where an application is in its life cycle.
type Status int

const (
	StatusNone           Status = iota // no event yet
	StatusCompleted                    // completed (web or proxy), not yet received
	StatusReceived                     // received by a store
	StatusExpired                      // not received within 60 days; data deleted
	StatusRetentionEnded               // 5 years after completion; data deleted
)

// Application is the Application aggregate. The zero value (or New()) is an
// application that does not exist yet.
type Application struct {
	id           ID
	status       Status
	details      domain.Personal[Details]
	acceptances  Acceptances
	units        int
	passcodeHash string
	completedAt  time.Time
	byProxy      bool
	consentID    string
	filingStore  string
	appliedStore string // the store named by the QR link of a web application
	receivedAt   time.Time
	receiver     string
	// Passcode failures and locks per lock: a store ID, or "" for the
	// customer login (store IDs are never empty). lockedAll is a lock
	// recorded before locks were per store.
	failures  map[string]int
	locks     map[string]bool
	lockedAll bool
}

// New returns an application with no history.
func New() *Application { return &Application{} }

// Load replays events into a new application.
func Load(events []domain.Event) *Application {
	a := New()
	for _, e := range events {
		a.Apply(e)
	}
	return a
}

// ID is the application ID (zero before completion).
func (a *Application) ID() ID { return a.id }

// Status is the life-cycle status.
func (a *Application) Status() Status { return a.status }

// Details is the applicant's personal data (erased or zero after expiry or
// retention end, once the subject is shredded).
func (a *Application) Details() domain.Personal[Details] { return a.details }

// Acceptances is the recorded acceptance of the four regulations.
func (a *Application) Acceptances() Acceptances { return a.acceptances }

// Units is the number of on-board units applied for.
func (a *Application) Units() int { return a.units }

// CompletedAt is the web completion (or proxy filing) time.
func (a *Application) CompletedAt() time.Time { return a.completedAt }

// ByProxy reports whether a store filed it (代行申請); the store must then
// print the setup certificate and hand it over.
func (a *Application) ByProxy() bool { return a.byProxy }

// ConsentID is the proxy consent used, if ByProxy.
func (a *Application) ConsentID() string { return a.consentID }

// ReceivedAt is the reception time (zero if not received).
func (a *Application) ReceivedAt() time.Time { return a.receivedAt }

// AppliedStore is the setup store named by the QR link the customer
// applied from ("" for none, and for proxy filings).
func (a *Application) AppliedStore() string { return a.appliedStore }

// ReceivingStore is the store that received it.
func (a *Application) ReceivingStore() string { return a.receiver }

// Locked reports whether passcode checks are locked for any store or for
// the customer login.
func (a *Application) Locked() bool { return a.lockedAll || len(a.locks) > 0 }

// LockedFor reports whether passcode checks are locked for store (""
// is the customer login).
func (a *Application) LockedFor(store string) bool { return a.lockedAll || a.locks[store] }

// PasscodeFailures is the count of consecutive wrong passcodes at store (""
// is the customer login).
func (a *Application) PasscodeFailures(store string) int { return a.failures[store] }

// ReceptionDeadline is the first instant at which reception is refused:
// completion + 60 days.
func (a *Application) ReceptionDeadline() time.Time { return ReceptionDeadlineOf(a.completedAt) }

// ReceptionDeadlineOf is the reception deadline of an application completed
// at completedAt (the 60-day rule). Views compute it with this, so a changed
// rule needs no rebuild.
func ReceptionDeadlineOf(completedAt time.Time) time.Time { return completedAt.Add(ReceptionPeriod) }

// ExpiryDueIfCompletedBy is the latest completion instant whose application
// the 60-day rule lets expire at now. Finders of due work (the expiry job)
// select candidates by completion time with it, never by a deadline a view
// stored; Expire still decides on each. It must agree with
// ReceptionDeadlineOf: TestDueIfCompletedByAgreesWithTheRules checks it.
func ExpiryDueIfCompletedBy(now time.Time) time.Time { return now.Add(-ReceptionPeriod) }

// RetentionEnd is the first instant after the 5-year validity: completion + 5
// calendar years in Japan time (29 February rolls to 1 March).
func (a *Application) RetentionEnd() time.Time { return RetentionEndOf(a.completedAt) }

// RetentionEndOf is the retention end of an application completed at
// completedAt (the 5-year rule).
func RetentionEndOf(completedAt time.Time) time.Time {
	return completedAt.In(domain.Tokyo).AddDate(RetentionYears, 0, 0)
}

// RetentionDueIfCompletedBy is the latest completion instant whose received
// application the 5-year rule lets end at now (29 February: a completion on
// it ends on 1 March, which this never misses). Like ExpiryDueIfCompletedBy,
// it names candidates; EndRetention decides.
func RetentionDueIfCompletedBy(now time.Time) time.Time {
	return now.In(domain.Tokyo).AddDate(-RetentionYears, 0, 0)
}

// Complete is the customer's web completion. PasscodeHash is the slow hash
// the caller computed from the passcode it mails to the customer.
type Complete struct {
	ID           ID
	Details      Details
	Acceptances  Acceptances
	Units        int
	PasscodeHash string
	// StoreID is the setup store named by the QR link ("" for none); the
	// command layer checks that the store exists.
	StoreID string
}

// Complete decides a web completion. An application ID already used is a
// Conflict (a retry with the same ID must use a fresh ID).
func (a *Application) Complete(cmd Complete, now time.Time) ([]domain.Event, error) {
	if a.status != StatusNone {
		return nil, ErrAlreadyCompleted.With("application_id", "")
	}
	if err := validateFiling(cmd.ID, cmd.Details, cmd.Acceptances, cmd.Units, cmd.PasscodeHash, true); err != nil {
		return nil, err
	}
	return []domain.Event{Completed{
		ApplicationID: cmd.ID,
		Details:       sealDetails(cmd.ID, cmd.Details),
		Acceptances:   cmd.Acceptances,
		Units:         cmd.Units,
		PasscodeHash:  cmd.PasscodeHash,
		CompletedAt:   now,
		StoreID:       cmd.StoreID,
	}}, nil
}

// FileByProxy is a store's proxy filing (代行申請). The command layer first
// lets the ProxyConsent consume a unit (ProxyConsent.Use) and passes the
// consent ID and unit number here; both streams' events are appended.
// The e-mail address is optional (a customer without e-mail is the usual case).
type FileByProxy struct {
	ID           ID
	Details      Details
	Acceptances  Acceptances
	Units        int
	PasscodeHash string
	StoreID      string
	StaffID      string
	ConsentID    string
	ConsentUnit  int
}

// FileByProxy decides a proxy filing.
func (a *Application) FileByProxy(cmd FileByProxy, now time.Time) ([]domain.Event, error) {
	if a.status != StatusNone {
		return nil, ErrAlreadyCompleted.With("application_id", "")
	}
	if err := validateFiling(cmd.ID, cmd.Details, cmd.Acceptances, cmd.Units, cmd.PasscodeHash, false); err != nil {
		return nil, err
	}
	if err := validateActor(cmd.StoreID, cmd.StaffID); err != nil {
		return nil, err
	}
	if cmd.ConsentID == "" || cmd.ConsentUnit < 1 {
		return nil, ErrMissingConsent.With("consent_id", "")
	}
	return []domain.Event{FiledByProxy{
		ApplicationID: cmd.ID,
		Details:       sealDetails(cmd.ID, cmd.Details),
		Acceptances:   cmd.Acceptances,
		Units:         cmd.Units,
		PasscodeHash:  cmd.PasscodeHash,
		StoreID:       cmd.StoreID,
		StaffID:       cmd.StaffID,
		ConsentID:     cmd.ConsentID,
		ConsentUnit:   cmd.ConsentUnit,
		CompletedAt:   now,
	}}, nil
}

func validateFiling(id ID, d Details, acc Acceptances, units int, hash string, web bool) error {
	if id.IsZero() {
		return ErrInvalidID.With("application_id", "")
	}
	if err := validateDetails(d, web); err != nil {
		return err
	}
	if err := acc.Validate(); err != nil {
		return err
	}
	if units < 1 {
		return ErrInvalidUnits.With("units", "")
	}
	if strings.TrimSpace(hash) == "" {
		return ErrMissingPasscodeHash.With("passcode_hash", "")
	}
	return nil
}

func validateActor(store, staff string) error {
	if strings.TrimSpace(store) == "" {
		return ErrMissingStore.With("store_id", "")
	}
	if strings.TrimSpace(staff) == "" {
		return ErrMissingStaff.With("staff_id", "")
	}
	return nil
}

// live refuses commands on an application that does not exist or whose data
// is gone.
func (a *Application) live() error {
	switch a.status {
	case StatusNone:
		return ErrNotFound
	case StatusExpired:
		return ErrExpired
	case StatusRetentionEnded:
		return ErrErased
	}
	return nil
}

// Receive is a store reading the application (受付) with the application ID
// and passcode, typed or from the QR code (ParseQR).
type Receive struct {
	StoreID  string
	StaffID  string
	Passcode string
	Verifier PasscodeVerifier
}

// Receive decides a reception at now.
//
// A wrong passcode returns BOTH events and an error: PasscodeRejected (plus
// ReceptionLocked on the MaxPasscodeFailures-th consecutive failure) with
// ErrWrongPasscode (or ErrReceptionLocked). The command layer must append
// the events and then return the error, or failures are never counted.
// Every other error comes with no events.
func (a *Application) Receive(cmd Receive, now time.Time) ([]domain.Event, error) {
	if err := a.live(); err != nil {
		return nil, err
	}
	if a.status == StatusReceived {
		return nil, ErrAlreadyReceived
	}
	if !now.Before(a.ReceptionDeadline()) {
		return nil, ErrReceptionPeriodOver.Withf("", "No store received this application within 60 days of completion (deadline %s), so its data is deleted; the customer must apply again.", a.ReceptionDeadline().In(domain.Tokyo).Format("2006-01-02 15:04"))
	}
	if err := validateActor(cmd.StoreID, cmd.StaffID); err != nil {
		return nil, err
	}
	if a.LockedFor(cmd.StoreID) {
		return nil, ErrReceptionLocked
	}
	if !validPasscode(cmd.Passcode) {
		return nil, ErrInvalidPasscode.With("passcode", "")
	}
	if cmd.Verifier == nil {
		return nil, ErrMissingVerifier
	}
	if !cmd.Verifier.Verify(a.passcodeHash, cmd.Passcode) {
		n := a.failures[cmd.StoreID] + 1
		events := []domain.Event{PasscodeRejected{
			ApplicationID: a.id, StoreID: cmd.StoreID, StaffID: cmd.StaffID,
			ConsecutiveFailures: n, At: now,
		}}
		if n >= MaxPasscodeFailures {
			events = append(events, ReceptionLocked{ApplicationID: a.id, StoreID: cmd.StoreID, At: now})
			return events, ErrReceptionLocked.Withf("passcode", "The passcode was wrong %d times in a row at your store, so your store's reception of this application is locked; ask the help desk to unlock it.", n)
		}
		return events, ErrWrongPasscode.Withf("passcode", "The passcode does not match this application ID (%d of %d attempts used); check the passcode in the \"申請が完了しました\" mail.", n, MaxPasscodeFailures)
	}
	return []domain.Event{Received{
		ApplicationID: a.id, StoreID: cmd.StoreID, StaffID: cmd.StaffID,
		ReceivedAt: now, RetainUntil: a.RetentionEnd(),
	}}, nil
}

// Unlock lifts a passcode lock; By is the operator (help desk) ID.
type Unlock struct {
	By string
}

// Unlock decides lifting the reception lock.
func (a *Application) Unlock(cmd Unlock, now time.Time) ([]domain.Event, error) {
	if err := a.live(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cmd.By) == "" {
		return nil, ErrMissingStaff.With("by", "Name the operator who unlocks the reception.")
	}
	if !a.Locked() {
		return nil, ErrNotLocked
	}
	return []domain.Event{ReceptionUnlocked{ApplicationID: a.id, By: cmd.By, At: now}}, nil
}

// Expire applies the 60-day rule: an application that no store received
// expires at completion + 60 days. Already expired: no events (idempotent).
// Not yet due: ErrExpiryNotDue. Received: ErrNotExpirable.
func (a *Application) Expire(now time.Time) ([]domain.Event, error) {
	switch a.status {
	case StatusExpired:
		return nil, nil
	case StatusNone:
		return nil, ErrNotFound
	case StatusRetentionEnded:
		return nil, ErrErased
	case StatusReceived:
		return nil, ErrNotExpirable
	}
	if now.Before(a.ReceptionDeadline()) {
		return nil, ErrExpiryNotDue.Withf("", "The application cannot be expired before %s (60 days from completion).", a.ReceptionDeadline().In(domain.Tokyo).Format(time.RFC3339))
	}
	return []domain.Event{Expired{ApplicationID: a.id, CompletedAt: a.completedAt, ExpiredAt: now}}, nil
}

// EndRetention applies the 5-year rule to a received application. Already
// ended: no events (idempotent). Not yet due: ErrRetentionNotDue. Never
// received: ErrNotReceived (it expires instead). Expired: ErrExpired.
func (a *Application) EndRetention(now time.Time) ([]domain.Event, error) {
	switch a.status {
	case StatusRetentionEnded:
		return nil, nil
	case StatusNone:
		return nil, ErrNotFound
	case StatusExpired:
		return nil, ErrExpired
	case StatusCompleted:
		return nil, ErrNotReceived
	}
	if now.Before(a.RetentionEnd()) {
		return nil, ErrRetentionNotDue.Withf("", "The application's data is kept until %s (5 years from completion).", a.RetentionEnd().Format(time.RFC3339))
	}
	return []domain.Event{RetentionEnded{ApplicationID: a.id, CompletedAt: a.completedAt, EndedAt: now}}, nil
}

// Apply evolves the application by one event. It never fails; events of
// other aggregates are ignored. Events are the value types the commands
// return (not pointers).
func (a *Application) Apply(e domain.Event) {
	switch e := e.(type) {
	case Completed:
		a.id, a.status = e.ApplicationID, StatusCompleted
		a.details, a.acceptances, a.units = e.Details, e.Acceptances, e.Units
		a.passcodeHash, a.completedAt = e.PasscodeHash, e.CompletedAt
		a.appliedStore = e.StoreID
	case FiledByProxy:
		a.id, a.status = e.ApplicationID, StatusCompleted
		a.details, a.acceptances, a.units = e.Details, e.Acceptances, e.Units
		a.passcodeHash, a.completedAt = e.PasscodeHash, e.CompletedAt
		a.byProxy, a.consentID, a.filingStore = true, e.ConsentID, e.StoreID
	case PasscodeRejected:
		if a.failures == nil {
			a.failures = map[string]int{}
		}
		a.failures[lockKey(e.StoreID, e.CustomerLogin)] = e.ConsecutiveFailures
	case ReceptionLocked:
		if e.StoreID == "" && !e.CustomerLogin {
			a.lockedAll = true
			break
		}
		if a.locks == nil {
			a.locks = map[string]bool{}
		}
		a.locks[lockKey(e.StoreID, e.CustomerLogin)] = true
	case ReceptionUnlocked:
		a.locks, a.failures, a.lockedAll = nil, nil, false
	case Received:
		a.status, a.receivedAt, a.receiver = StatusReceived, e.ReceivedAt, e.StoreID
		a.locks, a.failures, a.lockedAll = nil, nil, false
	case Expired:
		a.status = StatusExpired
		a.details, a.passcodeHash = domain.Personal[Details]{Subject: a.id.String(), Erased: true}, ""
	case RetentionEnded:
		a.status = StatusRetentionEnded
		a.details, a.passcodeHash = domain.Personal[Details]{Subject: a.id.String(), Erased: true}, ""
	}
}

// PasscodeHash is the slow hash of the passcode (empty once erased); a
// customer login checks a passcode against it.
func (a *Application) PasscodeHash() string { return a.passcodeHash }
