package contract

import (
	"github.com/gantry-etc/gantry/domain"
)

// Contract is the ETC service contract aggregate. The zero value is a
// contract not yet concluded (an empty stream). Fields change only in Apply.
type Contract struct {
	number       Number
	customerName string
	alphaName    AlphaName
	contact      domain.Personal[Contact]
	bankAccount  domain.Personal[BankAccount]
	lease        Lease
	businessDays BusinessCalendar
	concludedOn  domain.Date
	version      int
}

// Application is the ETC service application (申込書) as entered: every value
// already validated by its constructor.
type Application struct {
	Contract     Number
	CustomerName string
	AlphaName    AlphaName
	Contact      Contact
	BankAccount  BankAccount
	BusinessDays BusinessCalendar
}

// Conclude checks the application against the lease the caller found in the
// lease contract system and returns Concluded. It fails with
// ErrContractExists when already concluded, Err…Invalid for a missing part,
// ErrLeaseMismatch when the lease contract number or customer name differ
// (names compared with spacing normalised), and ErrLeaseEnded when the lease
// ended before today.
func (c *Contract) Conclude(app Application, lease Lease, today domain.Date) ([]domain.Event, error) {
	if c.Concluded() {
		return nil, ErrContractExists.Withf("contract", "Contract %s was already concluded on %s.", c.number, c.concludedOn)
	}
	name := normName(app.CustomerName)
	switch {
	case app.Contract.IsZero():
		return nil, ErrInvalidContractNumber.With("contract", "Give the lease contract number.")
	case name == "":
		return nil, ErrInvalidCustomerName.With("customer_name", "")
	case app.AlphaName.IsZero():
		return nil, ErrInvalidAlphaName.With("alpha_name", "")
	case app.Contact == Contact{}:
		return nil, ErrInvalidContact.With("contact", "")
	case app.BankAccount == BankAccount{}:
		return nil, ErrInvalidBankAccount.With("bank_account", "")
	case lease.IsZero():
		return nil, ErrInvalidLease.With("lease", "No lease was found for the application.")
	case lease.Number() != app.Contract:
		return nil, ErrLeaseMismatch.Withf("contract", "The application names lease contract %s but the lease found is %s.", app.Contract, lease.Number())
	case lease.CustomerName() != name:
		return nil, ErrLeaseMismatch.Withf("customer_name", "The application names %q but lease %s is with %q.", name, lease.Number(), lease.CustomerName())
	case lease.EndedBefore(today):
		return nil, ErrLeaseEnded.Withf("lease", "Lease %s ended on %s.", lease.Number(), lease.End())
	}
	cal := app.BusinessDays
	return []domain.Event{Concluded{
		Contract:     app.Contract,
		CustomerName: name,
		AlphaName:    app.AlphaName,
		Contact:      domain.Seal(app.Contract.String(), app.Contact),
		BankAccount:  domain.Seal(app.Contract.String(), app.BankAccount),
		Lease:        lease,
		BusinessDays: cal,
		ConcludedOn:  today,
	}}, nil
}

// ChangeBusinessDays replaces the customer's business days. Giving the
// calendar already in force returns no events (safe to retry).
func (c *Contract) ChangeBusinessDays(cal BusinessCalendar, today domain.Date) ([]domain.Event, error) {
	if !c.Concluded() {
		return nil, ErrContractNotFound
	}
	if cal.Equal(c.businessDays) {
		return nil, nil
	}
	return []domain.Event{BusinessDaysChanged{Contract: c.number, BusinessDays: cal, ChangedOn: today}}, nil
}

// Apply evolves the contract by one event of this package; other events are
// ignored. It never fails.
func (c *Contract) Apply(e domain.Event) {
	switch e := e.(type) {
	case Concluded:
		c.number = e.Contract
		c.customerName = e.CustomerName
		c.alphaName = e.AlphaName
		c.contact = e.Contact
		c.bankAccount = e.BankAccount
		c.lease = e.Lease
		c.businessDays = e.BusinessDays
		c.concludedOn = e.ConcludedOn
	case BusinessDaysChanged:
		c.businessDays = e.BusinessDays
	default:
		return
	}
	c.version++
}

// Concluded reports whether the contract exists.
func (c *Contract) Concluded() bool { return !c.number.IsZero() }

// Version is the number of events applied (the stream's expected version).
func (c *Contract) Version() int { return c.version }

func (c *Contract) Number() Number                            { return c.number }
func (c *Contract) CustomerName() string                      { return c.customerName }
func (c *Contract) AlphaName() AlphaName                      { return c.alphaName }
func (c *Contract) Contact() domain.Personal[Contact]         { return c.contact }
func (c *Contract) BankAccount() domain.Personal[BankAccount] { return c.bankAccount }
func (c *Contract) Lease() Lease                              { return c.lease }
func (c *Contract) BusinessDays() BusinessCalendar            { return c.businessDays }
func (c *Contract) ConcludedOn() domain.Date                  { return c.concludedOn }
