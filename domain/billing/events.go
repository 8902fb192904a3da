package billing

import (
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Stable event type names stored on disk. Never rename.
const (
	EventInvoiceIssued    = "invoice.issued"
	EventAdjustmentIssued = "invoice.adjustment_issued"
)

// EventTypes lists every event type of this package that is stored (invoices
// and usage files); a test in cmd/gantry/app checks it against what the
// codec can decode.
func EventTypes() []string {
	return []string{EventInvoiceIssued, EventAdjustmentIssued, EventUsageFileImported}
}

// InvoiceIssued starts an invoice's stream with its full content.
type InvoiceIssued struct {
	Invoice   InvoiceNumber `json:"invoice"`
	IssuedOn  domain.Date   `json:"issued_on"`
	Statement Statement     `json:"statement"`
}

// AdjustmentIssued is a credit or debit note for the invoice: Removed lines
// are withdrawn and Added lines billed (a changed line appears in both).
// Summary holds the differences: totals per kind, taxable base and tax per
// rate (tax difference = tax on the corrected base − tax on the previous
// base, so the rounding stays once per invoice per rate), and Total.
type AdjustmentIssued struct {
	Invoice    InvoiceNumber   `json:"invoice"`    // the original invoice
	Adjustment InvoiceNumber   `json:"adjustment"` // "<invoice>-A<n>", n from 1
	Kind       AdjustmentKind  `json:"kind"`
	Contract   contract.Number `json:"contract"`
	Period     money.YearMonth `json:"period"`
	IssuedOn   domain.Date     `json:"issued_on"`
	Removed    []Line          `json:"removed"`
	Added      []Line          `json:"added"`
	Summary    Summary         `json:"summary"`
}

func (InvoiceIssued) EventType() string    { return EventInvoiceIssued }
func (AdjustmentIssued) EventType() string { return EventAdjustmentIssued }

// AdjustmentKind says which way an adjustment goes.
type AdjustmentKind string

// Adjustment kinds (stored on disk).
const (
	AdjustmentCredit     AdjustmentKind = "credit"     // total decreases (返還)
	AdjustmentDebit      AdjustmentKind = "debit"      // total increases (追加請求)
	AdjustmentCorrection AdjustmentKind = "correction" // lines change, total unchanged
)
