package contract

import "github.com/gantry-etc/gantry/domain"

// Snapshot is a read-only view of a contract's state (for auditors' as-of
// reads). Contact and bank account stay Personal values.
type Snapshot struct {
	Contract     Number                       `json:"contract"`
	CustomerName string                       `json:"customer_name"`
	AlphaName    AlphaName                    `json:"alpha_name"`
	Contact      domain.Personal[Contact]     `json:"contact"`
	BankAccount  domain.Personal[BankAccount] `json:"bank_account"`
	Lease        Lease                        `json:"lease"`
	BusinessDays BusinessCalendar             `json:"business_days"`
	ConcludedOn  domain.Date                  `json:"concluded_on,omitzero"`
}

// Snapshot returns the contract's state as a value.
func (c *Contract) Snapshot() Snapshot {
	return Snapshot{Contract: c.number, CustomerName: c.customerName, AlphaName: c.alphaName, Contact: c.contact,
		BankAccount: c.bankAccount, Lease: c.lease, BusinessDays: c.businessDays, ConcludedOn: c.concludedOn}
}
