package card

import (
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Card is the ETC card aggregate. The zero value is a card not yet issued
// (an empty stream). Fields change only in Apply.
type Card struct {
	number          CardNumber
	contract        contract.Number
	alphaName       contract.AlphaName
	vehicle         contract.VehicleNumber
	cardType        Type
	expiry          money.YearMonth
	state           State
	firstIssuedOn   domain.Date
	issuedOn        domain.Date
	reason          IssueReason
	previous        CardNumber
	successor       CardNumber
	endedOn         domain.Date
	renewalNoticeOn domain.Date
	version         int
}

// ExpiryFor is the card expiry for a lease ending on leaseEnd: the month in
// which the lease ends (the card is valid through that month's last day).
// A lease ending 2027-03-15 gives 2027-03.
func ExpiryFor(leaseEnd domain.Date) money.YearMonth { return money.YearMonthOf(leaseEnd) }

// IssueRequest is a card issue request (カード発行依頼書) for a new card.
type IssueRequest struct {
	Card      CardNumber // allocated by the caller (NewCardNumber)
	Contract  contract.Number
	AlphaName contract.AlphaName // the contract's customer name in alphabet, for the printer
	Vehicle   contract.VehicleNumber
	Type      Type
}

// Issue decides a new issue (新規発行). lease is what the caller found in the
// lease system for req.Contract; inUseCardExists is whether any card for
// req.Vehicle is in use (read model; the caller also enforces it with a
// unique index). The card expires in the month the lease ends; first issue
// date = issue date = today.
//
// Errors: ErrCardExists (stream not empty), ErrInvalidCardNumber /
// ErrInvalidCardType / contract.ErrInvalid… for missing parts,
// contract.ErrLeaseMismatch (lease of another contract), ErrVehicleNotLeased,
// contract.ErrLeaseEnded (lease ended before today), ErrCardInUse.
func (c *Card) Issue(req IssueRequest, lease contract.Lease, inUseCardExists bool, today domain.Date) ([]domain.Event, error) {
	if c.Issued() {
		return nil, ErrCardExists.Withf("card", "Card %s was already issued on %s.", c.number, c.issuedOn)
	}
	switch {
	case req.Card.IsZero():
		return nil, ErrInvalidCardNumber.With("card", "Allocate a card number for the new card.")
	case req.Contract.IsZero():
		return nil, contract.ErrInvalidContractNumber.With("contract", "Give the lease contract number the card is issued under.")
	case req.AlphaName.IsZero():
		return nil, contract.ErrInvalidAlphaName.With("alpha_name", "")
	case req.Vehicle.IsZero():
		return nil, contract.ErrInvalidVehicleNumber.With("vehicle", "")
	case req.Type.IsZero():
		return nil, ErrInvalidCardType.With("card_type", "")
	}
	if err := checkLease(req.Contract, req.Vehicle, lease, today); err != nil {
		return nil, err
	}
	if inUseCardExists {
		return nil, ErrCardInUse.Withf("vehicle", "Vehicle %s already has a card in use; reissue or renew that card instead of issuing a new one.", req.Vehicle)
	}
	return []domain.Event{Issued{
		Card: req.Card, Contract: req.Contract, AlphaName: req.AlphaName, Vehicle: req.Vehicle, Type: req.Type,
		Expiry: ExpiryFor(lease.End()), FirstIssuedOn: today, IssuedOn: today, Reason: ReasonNew,
	}}, nil
}

func checkLease(number contract.Number, v contract.VehicleNumber, lease contract.Lease, today domain.Date) error {
	switch {
	case lease.IsZero():
		return contract.ErrInvalidLease.With("lease", "No lease was found for the card.")
	case lease.Number() != number:
		return contract.ErrLeaseMismatch.Withf("contract", "The card is under lease contract %s but the lease found is %s.", number, lease.Number())
	case !lease.Covers(v):
		return ErrVehicleNotLeased.Withf("vehicle", "Vehicle %s is not on lease %s; check the registration number against the lease.", v, lease.Number())
	case lease.EndedBefore(today):
		return contract.ErrLeaseEnded.Withf("lease", "Lease %s ended on %s.", lease.Number(), lease.End())
	}
	return nil
}

// Succession is the decision of a renewal or reissue: events for two
// streams that the command layer appends atomically (see the package doc).
type Succession struct {
	Old       CardNumber
	OldEvents []domain.Event // append to Old's stream at the version loaded
	New       CardNumber
	NewEvents []domain.Event // append to New's stream, expecting no stream
}

// RenewRequest is a renewal request (更新依頼書) for the card it is called on.
type RenewRequest struct {
	NewCard CardNumber // allocated by the caller
	Type    Type       // zero keeps the current card type
}

// Renew decides a renewal (更新発行): a new card, in use, expiring in the
// month the (extended) lease ends, first issue date carried over, reason
// renewal; the old card in use → renewed.
//
// Errors: ErrCardNotFound, ErrCardNotInUse, ErrInvalidCardNumber,
// ErrSameCardNumber, contract.ErrLeaseMismatch, ErrVehicleNotLeased,
// contract.ErrLeaseEnded, ErrLeaseNotExtended (the lease must end after the
// current expiry month).
func (c *Card) Renew(req RenewRequest, lease contract.Lease, today domain.Date) (Succession, error) {
	if err := c.checkSuccessor(req.NewCard); err != nil {
		return Succession{}, err
	}
	if err := checkLease(c.contract, c.vehicle, lease, today); err != nil {
		return Succession{}, err
	}
	expiry := ExpiryFor(lease.End())
	if !expiry.After(c.expiry) {
		return Succession{}, ErrLeaseNotExtended.Withf("lease", "Lease %s ends on %s, within the card's current expiry month %s; extend the lease before renewing.", lease.Number(), lease.End(), c.expiry)
	}
	t := c.cardType
	if !req.Type.IsZero() {
		t = req.Type
	}
	return Succession{
		Old:       c.number,
		OldEvents: []domain.Event{Renewed{Card: c.number, Successor: req.NewCard, RenewedOn: today}},
		New:       req.NewCard,
		NewEvents: []domain.Event{c.successorIssued(req.NewCard, t, expiry, ReasonRenewal, today)},
	}, nil
}

// ReissueRequest is a reissue request (カード再発行依頼書) for the card it is
// called on.
type ReissueRequest struct {
	NewCard CardNumber  // allocated by the caller
	Reason  IssueReason // one of the four reissue reasons (ParseReissueReason)
	Type    Type        // the new type for card_type_change; otherwise zero (or the same type)
}

// Reissue decides a reissue (再発行): a new card number, in use, same expiry,
// first issue date carried over, reason = the reissue reason; the old card
// in use → invalid.
//
// Errors: ErrCardNotFound, ErrCardNotInUse, ErrUnknownReissueReason,
// ErrInvalidCardNumber, ErrSameCardNumber, ErrCardExpired (today is after the
// expiry month), ErrCardTypeUnchanged (card_type_change without a different
// type), ErrCardTypeChangeReason (another reason with a different type).
func (c *Card) Reissue(req ReissueRequest, today domain.Date) (Succession, error) {
	if err := c.checkSuccessor(req.NewCard); err != nil {
		return Succession{}, err
	}
	if !req.Reason.IsReissue() {
		return Succession{}, ErrUnknownReissueReason.With("reason", "")
	}
	if money.YearMonthOf(today).After(c.expiry) {
		return Succession{}, ErrCardExpired.Withf("card", "Card %s expired at the end of %s; issue a new card instead.", c.number, c.expiry)
	}
	t := c.cardType
	changes := !req.Type.IsZero() && req.Type != c.cardType
	switch {
	case req.Reason == ReasonCardTypeChange && !changes:
		return Succession{}, ErrCardTypeUnchanged.Withf("card_type", "Card %s is already of type %s; give the new card type.", c.number, c.cardType)
	case req.Reason != ReasonCardTypeChange && changes:
		return Succession{}, ErrCardTypeChangeReason.With("card_type", "")
	case changes:
		t = req.Type
	}
	return Succession{
		Old:       c.number,
		OldEvents: []domain.Event{Invalidated{Card: c.number, Successor: req.NewCard, Reason: req.Reason, InvalidatedOn: today}},
		New:       req.NewCard,
		NewEvents: []domain.Event{c.successorIssued(req.NewCard, t, c.expiry, req.Reason, today)},
	}, nil
}

func (c *Card) checkSuccessor(n CardNumber) error {
	switch {
	case !c.Issued():
		return ErrCardNotFound
	case c.state != StateInUse:
		return ErrCardNotInUse.Withf("card", "Card %s is %s (%s); act on the card that replaced it.", c.number, c.state, c.state.Label())
	case n.IsZero():
		return ErrInvalidCardNumber.With("new_card", "Allocate a card number for the new card.")
	case n == c.number:
		return ErrSameCardNumber.With("new_card", "")
	}
	return nil
}

func (c *Card) successorIssued(n CardNumber, t Type, expiry money.YearMonth, r IssueReason, today domain.Date) Issued {
	return Issued{
		Card: n, Contract: c.contract, AlphaName: c.alphaName, Vehicle: c.vehicle, Type: t,
		Expiry: expiry, FirstIssuedOn: c.firstIssuedOn, IssuedOn: today, Reason: r, Previous: c.number,
	}
}

// CancelAtMonthEnd is the month-end run for month: a card still in use whose
// expiry is month becomes cancelled, valid through month's last day. Any
// other card yields no events, so running a month twice changes nothing.
// A missed month is caught up by running that month.
func (c *Card) CancelAtMonthEnd(month money.YearMonth) []domain.Event {
	if c.state != StateInUse || c.expiry != month {
		return nil
	}
	return []domain.Event{Cancelled{Card: c.number, Month: month, CancelledOn: month.LastDay()}}
}

// RenewalNoticeFrom is the first day the renewal notice is due: the 1st of
// the month two months before the expiry month ("at least 2 months before
// expiry"). Expiry 2027-03 → 2027-01-01.
func (c *Card) RenewalNoticeFrom() domain.Date { return RenewalNoticeMonth(c.expiry).FirstDay() }

// RenewalNoticeMonth is the month from whose 1st the renewal notice of a
// card expiring in expiry is due (two months before).
func RenewalNoticeMonth(expiry money.YearMonth) money.YearMonth { return expiry.AddMonths(-2) }

// ExpiryNoticedIn is the expiry month of the cards whose renewal notice
// falls due in month m (the inverse of RenewalNoticeMonth), for finders.
func ExpiryNoticedIn(m money.YearMonth) money.YearMonth { return m.AddMonths(2) }

// RenewalNoticeDue reports whether the renewal notice should be sent today:
// the card is in use, no notice has been recorded, and today is on or after
// RenewalNoticeFrom.
func (c *Card) RenewalNoticeDue(today domain.Date) bool {
	return c.state == StateInUse && c.renewalNoticeOn.IsZero() && !today.Before(c.RenewalNoticeFrom())
}

// RecordRenewalNotice records that the renewal notice was sent today. Once
// per card: when already recorded it returns no events (safe to retry).
// Errors: ErrCardNotFound, ErrCardNotInUse, ErrRenewalNoticeNotDue.
func (c *Card) RecordRenewalNotice(today domain.Date) ([]domain.Event, error) {
	switch {
	case !c.Issued():
		return nil, ErrCardNotFound
	case !c.renewalNoticeOn.IsZero():
		return nil, nil
	case c.state != StateInUse:
		return nil, ErrCardNotInUse.Withf("card", "Card %s is %s (%s); no renewal notice is sent.", c.number, c.state, c.state.Label())
	case today.Before(c.RenewalNoticeFrom()):
		return nil, ErrRenewalNoticeNotDue.Withf("card", "Card %s expires in %s; the renewal notice is due from %s.", c.number, c.expiry, c.RenewalNoticeFrom())
	}
	return []domain.Event{RenewalNoticeRecorded{Card: c.number, Expiry: c.expiry, RecordedOn: today}}, nil
}

// Apply evolves the card by one event of this package; other events are
// ignored. It never fails.
func (c *Card) Apply(e domain.Event) {
	switch e := e.(type) {
	case Issued:
		*c = Card{
			number: e.Card, contract: e.Contract, alphaName: e.AlphaName, vehicle: e.Vehicle, cardType: e.Type,
			expiry: e.Expiry, state: StateInUse, firstIssuedOn: e.FirstIssuedOn, issuedOn: e.IssuedOn,
			reason: e.Reason, previous: e.Previous, version: c.version,
		}
	case Renewed:
		c.state, c.successor, c.endedOn = StateRenewed, e.Successor, e.RenewedOn
	case Invalidated:
		c.state, c.successor, c.endedOn = StateInvalid, e.Successor, e.InvalidatedOn
	case Cancelled:
		c.state, c.endedOn = StateCancelled, e.CancelledOn
	case RenewalNoticeRecorded:
		c.renewalNoticeOn = e.RecordedOn
	default:
		return
	}
	c.version++
}

// Issued reports whether the card exists.
func (c *Card) Issued() bool { return !c.number.IsZero() }

// Version is the number of events applied (the stream's expected version).
func (c *Card) Version() int { return c.version }

func (c *Card) Number() CardNumber              { return c.number }
func (c *Card) Contract() contract.Number       { return c.contract }
func (c *Card) AlphaName() contract.AlphaName   { return c.alphaName }
func (c *Card) Vehicle() contract.VehicleNumber { return c.vehicle }
func (c *Card) Type() Type                      { return c.cardType }
func (c *Card) Expiry() money.YearMonth         { return c.expiry }
func (c *Card) State() State                    { return c.state }
func (c *Card) FirstIssuedOn() domain.Date      { return c.firstIssuedOn }
func (c *Card) IssuedOn() domain.Date           { return c.issuedOn }
func (c *Card) Reason() IssueReason             { return c.reason }

// Previous is the card this one replaced (zero for a new issue).
func (c *Card) Previous() CardNumber { return c.previous }

// Successor is the card that replaced this one (zero unless renewed or invalid).
func (c *Card) Successor() CardNumber { return c.successor }

// EndedOn is the last day the card was in use: the renewal or invalidation
// date, or the last day of the expiry month when cancelled; zero while in use.
func (c *Card) EndedOn() domain.Date { return c.endedOn }

// RenewalNoticeOn is when the renewal notice was recorded (zero if not yet).
func (c *Card) RenewalNoticeOn() domain.Date { return c.renewalNoticeOn }
