package billing

import "github.com/gantry-etc/gantry/domain"

// InvoiceSnapshot is a read-only view of an invoice's state (for auditors'
// as-of reads): the effective content, issued plus adjustments.
type InvoiceSnapshot struct {
	Invoice     InvoiceNumber `json:"invoice"`
	IssuedOn    domain.Date   `json:"issued_on,omitzero"`
	Adjustments int           `json:"adjustments"`
	Effective   Statement     `json:"effective"`
}

// Snapshot returns the invoice's state as a value.
func (i *Invoice) Snapshot() InvoiceSnapshot {
	return InvoiceSnapshot{Invoice: i.number, IssuedOn: i.issuedOn, Adjustments: i.adjustments, Effective: i.Effective()}
}
