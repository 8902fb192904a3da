package billing

import (
	"encoding/json"

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

// InvoiceIssued starts an invoice's stream: the statement's header and
// summary, and a commitment to its lines (schema v2). The lines are not
// stored in the event: they go to the line store in the append's
// transaction (DetailLines), and Hydrate puts them back into
// Statement.Lines after a read. An event of schema v1 (lines embedded) is
// upcast with its lines still in Statement.Lines and its commitment
// computed from them.
type InvoiceIssued struct {
	Invoice   InvoiceNumber `json:"invoice"`
	IssuedOn  domain.Date   `json:"issued_on"`
	Statement Statement     `json:"statement"` // Lines: in memory only (or an upcast v1 event's)
	Lines     Commitment    `json:"lines"`
}

// statementHeader is a Statement as stored in an event: without its lines.
type statementHeader struct {
	Issuer    Issuer          `json:"issuer"`
	Contract  contract.Number `json:"contract"`
	Recipient string          `json:"recipient"`
	Period    money.YearMonth `json:"period"`
	Summary   Summary         `json:"summary"`
}

// MarshalJSON stores the event without its lines (see InvoiceIssued).
func (e InvoiceIssued) MarshalJSON() ([]byte, error) {
	s := e.Statement
	return json.Marshal(struct {
		Invoice   InvoiceNumber   `json:"invoice"`
		IssuedOn  domain.Date     `json:"issued_on"`
		Statement statementHeader `json:"statement"`
		Lines     Commitment      `json:"lines"`
	}{e.Invoice, e.IssuedOn, statementHeader{s.Issuer, s.Contract, s.Recipient, s.Period, s.Summary}, e.Lines})
}

// DetailLines is what the line store keeps for this event.
func (e InvoiceIssued) DetailLines() []DocumentLines {
	return []DocumentLines{{Document: e.Invoice, Part: PartLines, Lines: e.Statement.Lines}}
}

// AdjustmentIssued is a credit or debit note for the invoice: Removed lines
// are withdrawn and Added lines billed (a changed line appears in both).
// Like InvoiceIssued (schema v2) it stores commitments to those lines, not
// the lines: they go to the line store under the adjustment's number, parts
// "removed" and "added"; Hydrate reads them back.
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
	Removed    []Line          `json:"removed,omitempty"` // in memory only (or an upcast v1 event's)
	Added      []Line          `json:"added,omitempty"`   // in memory only (or an upcast v1 event's)
	Summary    Summary         `json:"summary"`

	RemovedLines Commitment `json:"removed_lines"`
	AddedLines   Commitment `json:"added_lines"`
}

// MarshalJSON stores the event without its lines (see AdjustmentIssued).
func (e AdjustmentIssued) MarshalJSON() ([]byte, error) {
	type stored AdjustmentIssued // without this method
	s := stored(e)
	s.Removed, s.Added = nil, nil
	return json.Marshal(s)
}

// DetailLines is what the line store keeps for this event.
func (e AdjustmentIssued) DetailLines() []DocumentLines {
	return []DocumentLines{
		{Document: e.Adjustment, Part: PartRemoved, Lines: e.Removed},
		{Document: e.Adjustment, Part: PartAdded, Lines: e.Added},
	}
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
