package billing

import (
	"cmp"
	"errors"
	"slices"
	"strconv"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// InvoiceNumber identifies an invoice or adjustment: 1–64 ASCII letters,
// digits, hyphens or underscores. It is the invoice's stream ID.
type InvoiceNumber struct{ s string }

// ParseInvoiceNumber validates an invoice number.
func ParseInvoiceNumber(s string) (InvoiceNumber, error) {
	if s == "" || len(s) > 64 {
		return InvoiceNumber{}, ErrInvalidInvoiceNumber.Withf("invoice", "%q is not 1 to 64 characters.", s)
	}
	for _, c := range []byte(s) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return InvoiceNumber{}, ErrInvalidInvoiceNumber.Withf("invoice", "%q contains %q.", s, c)
		}
	}
	return InvoiceNumber{s}, nil
}

// InvoiceNumberFor is the deterministic invoice number of a contract's
// month: "INV-<YYYYMM>-<contract>", e.g. "INV-202611-L-2025-0042". Running
// a month twice therefore addresses the same stream.
func InvoiceNumberFor(c contract.Number, month money.YearMonth) InvoiceNumber {
	return InvoiceNumber{"INV-" + month.String()[:4] + month.String()[5:] + "-" + c.String()}
}

func (n InvoiceNumber) String() string { return n.s }

// IsZero reports whether n is the zero value.
func (n InvoiceNumber) IsZero() bool { return n.s == "" }

// MarshalText encodes the number.
func (n InvoiceNumber) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText decodes and validates; "" is the zero value.
func (n *InvoiceNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = InvoiceNumber{}
		return nil
	}
	v, err := ParseInvoiceNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// Invoice is the invoice aggregate of one contract and month. The zero value
// is an invoice not yet issued. It keeps the effective content: the issued
// statement with every adjustment applied. Fields change only in Apply.
//
// Events read from the log carry commitments, not lines: the aggregate
// knows its lines only when every event was hydrated (billing.Hydrate).
// Without them it still knows the header and the effective summary (each
// adjustment's summary is the difference), and Reconcile refuses.
type Invoice struct {
	number      InvoiceNumber
	issuedOn    domain.Date
	effective   Statement
	linesKnown  bool
	adjustments int
	version     int
}

// ErrLinesNotLoaded: the invoice was replayed without its lines.
var ErrLinesNotLoaded = errors.New("billing: the invoice was replayed without its lines (hydrate its events with billing.Hydrate)")

// Issue decides the invoice: InvoiceIssued with the full statement under
// number (deterministic, from the caller; see InvoiceNumberFor).
// Errors: ErrInvoiceIssued when already issued (use Reconcile),
// ErrInvalidInvoiceNumber, ErrInvalidStatement.
func (i *Invoice) Issue(number InvoiceNumber, st Statement, today domain.Date) ([]domain.Event, error) {
	if i.Issued() {
		return nil, ErrInvoiceIssued.Withf("invoice", "Invoice %s was issued on %s; reconcile a recomputation instead.", i.number, i.issuedOn)
	}
	if number.IsZero() {
		return nil, ErrInvalidInvoiceNumber.With("invoice", "Give the invoice number.")
	}
	if st.Contract.IsZero() || st.Period.IsZero() || st.Recipient == "" {
		return nil, ErrInvalidStatement
	}
	return []domain.Event{InvoiceIssued{Invoice: number, IssuedOn: today, Statement: st, Lines: Commit(st.Lines)}}, nil
}

// Reconcile compares a recomputation of the same contract and month with
// the effective content (issued plus adjustments, matched line by line on
// Line.Key). Equal lines → no events, so running a month twice changes
// nothing. Otherwise one AdjustmentIssued numbered "<invoice>-A<n>" with the
// removed and added lines and the differences. Header fields (issuer,
// recipient) are not compared: an issued document keeps its header.
// Errors: ErrInvoiceNotIssued, ErrStatementMismatch.
func (i *Invoice) Reconcile(recomputed Statement, today domain.Date) ([]domain.Event, error) {
	if !i.Issued() {
		return nil, ErrInvoiceNotIssued
	}
	if !i.linesKnown {
		return nil, ErrLinesNotLoaded
	}
	if recomputed.Contract != i.effective.Contract || recomputed.Period != i.effective.Period {
		return nil, ErrStatementMismatch.Withf("statement", "Invoice %s is for %s %s but the recomputation is for %s %s.",
			i.number, i.effective.Contract, i.effective.Period, recomputed.Contract, recomputed.Period)
	}
	old := map[string]Line{}
	for _, l := range i.effective.Lines {
		old[l.Key] = l
	}
	removed, added := []Line{}, []Line{}
	seen := map[string]bool{}
	for _, l := range recomputed.Lines {
		seen[l.Key] = true
		o, ok := old[l.Key]
		if ok && o.equal(l) {
			continue
		}
		if ok {
			removed = append(removed, o)
		}
		added = append(added, l)
	}
	for _, l := range i.effective.Lines {
		if !seen[l.Key] {
			removed = append(removed, l)
		}
	}
	if len(removed) == 0 && len(added) == 0 {
		return nil, nil
	}
	sortLines(removed)
	sortLines(added)
	d := difference(i.effective.Summary, Summarize(recomputed.Lines))
	kind := AdjustmentCorrection
	switch {
	case d.Total < 0:
		kind = AdjustmentCredit
	case d.Total > 0:
		kind = AdjustmentDebit
	}
	adj := InvoiceNumber{i.number.s + "-A" + strconv.Itoa(i.adjustments+1)}
	return []domain.Event{AdjustmentIssued{
		Invoice: i.number, Adjustment: adj, Kind: kind, Contract: i.effective.Contract, Period: i.effective.Period,
		IssuedOn: today, Removed: removed, Added: added, Summary: d,
		RemovedLines: Commit(removed), AddedLines: Commit(added),
	}}, nil
}

// difference is after − before, per kind and per rate (the tax difference
// is the difference of the once-per-invoice rounded taxes).
func difference(before, after Summary) Summary {
	d := Summary{
		Tolls: after.Tolls - before.Tolls, IssueFees: after.IssueFees - before.IssueFees,
		AnnualFees: after.AnnualFees - before.AnnualFees, Total: after.Total - before.Total,
		Rounding: TaxRounding, Taxes: []RateTotal{},
	}
	byRate := map[TaxRate]RateTotal{}
	for _, t := range after.Taxes {
		r := byRate[t.Rate]
		r.Rate, r.Base, r.Tax = t.Rate, r.Base+t.Base, r.Tax+t.Tax
		byRate[t.Rate] = r
	}
	for _, t := range before.Taxes {
		r := byRate[t.Rate]
		r.Rate, r.Base, r.Tax = t.Rate, r.Base-t.Base, r.Tax-t.Tax
		byRate[t.Rate] = r
	}
	for _, r := range byRate {
		if r.Base != 0 || r.Tax != 0 {
			d.Taxes = append(d.Taxes, r)
		}
	}
	slices.SortFunc(d.Taxes, func(a, b RateTotal) int { return cmp.Compare(b.Rate, a.Rate) })
	return d
}

// add is before + d: the summary after an adjustment of difference d.
func add(before, d Summary) Summary {
	out := Summary{
		Tolls: before.Tolls + d.Tolls, IssueFees: before.IssueFees + d.IssueFees,
		AnnualFees: before.AnnualFees + d.AnnualFees, Total: before.Total + d.Total,
		Rounding: before.Rounding, Taxes: []RateTotal{},
	}
	byRate := map[TaxRate]RateTotal{}
	for _, t := range append(slices.Clone(before.Taxes), d.Taxes...) {
		r := byRate[t.Rate]
		r.Rate, r.Base, r.Tax = t.Rate, r.Base+t.Base, r.Tax+t.Tax
		byRate[t.Rate] = r
	}
	for _, r := range byRate {
		if r.Base != 0 || r.Tax != 0 {
			out.Taxes = append(out.Taxes, r)
		}
	}
	slices.SortFunc(out.Taxes, func(a, b RateTotal) int { return cmp.Compare(b.Rate, a.Rate) })
	return out
}

// Apply evolves the invoice by one event of this package; other events are
// ignored. It never fails.
func (i *Invoice) Apply(e domain.Event) {
	switch e := e.(type) {
	case InvoiceIssued:
		i.number, i.issuedOn = e.Invoice, e.IssuedOn
		i.effective = e.Statement
		i.effective.Lines = append([]Line{}, e.Statement.Lines...)
		i.linesKnown = e.Lines.IsZero() || len(e.Statement.Lines) == e.Lines.Count
	case AdjustmentIssued:
		i.adjustments++
		hydrated := (e.RemovedLines.IsZero() || len(e.Removed) == e.RemovedLines.Count) && (e.AddedLines.IsZero() || len(e.Added) == e.AddedLines.Count)
		if !i.linesKnown || !hydrated {
			i.linesKnown = false
			i.effective.Lines = []Line{}
			i.effective.Summary = add(i.effective.Summary, e.Summary)
			break
		}
		drop := map[string]bool{}
		for _, l := range e.Removed {
			drop[l.Key] = true
		}
		lines := []Line{}
		for _, l := range i.effective.Lines {
			if !drop[l.Key] {
				lines = append(lines, l)
			}
		}
		lines = append(lines, e.Added...)
		sortLines(lines)
		i.effective.Lines = lines
		i.effective.Summary = Summarize(lines)
	default:
		return
	}
	i.version++
}

// Issued reports whether the invoice exists.
func (i *Invoice) Issued() bool { return !i.number.IsZero() }

// Version is the number of events applied (the stream's expected version).
func (i *Invoice) Version() int { return i.version }

func (i *Invoice) Number() InvoiceNumber { return i.number }
func (i *Invoice) IssuedOn() domain.Date { return i.issuedOn }

// LinesKnown reports whether the invoice was replayed with its lines
// (hydrated events), so Effective().Lines is the effective detail.
func (i *Invoice) LinesKnown() bool { return i.linesKnown }

// Adjustments is how many adjustments have been issued.
func (i *Invoice) Adjustments() int { return i.adjustments }

// Effective is the content now in force: the issued statement with every
// adjustment applied (lines and summary recomputed).
func (i *Invoice) Effective() Statement {
	s := i.effective
	s.Lines = append([]Line(nil), i.effective.Lines...)
	return s
}
