package billing

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// TaxRate is a consumption tax rate in percent. NotTaxed (0) marks
// pass-through lines.
type TaxRate int

// Tax rates.
const (
	NotTaxed     TaxRate = 0
	StandardRate TaxRate = 10 // 標準税率
	ReducedRate  TaxRate = 8  // 軽減税率 (no ETC line uses it today)
)

// Rounding names how consumption tax is rounded.
type Rounding string

// RoundDown is 切り捨て: the fraction of a yen is discarded.
const RoundDown Rounding = "round_down"

// TaxRounding is the rounding Gantry applies, once per invoice per rate.
const TaxRounding = RoundDown

// TaxOn is the consumption tax on base at rate, rounded down (toward minus
// infinity for a negative base).
func TaxOn(base money.Yen, rate TaxRate) money.Yen {
	p := int64(base) * int64(rate)
	q := p / 100
	if p%100 != 0 && p < 0 {
		q--
	}
	return money.Yen(q)
}

// LineKind is what an invoice line bills.
type LineKind string

// Line kinds (stored on disk).
const (
	KindToll      LineKind = "toll"       // 通行料金, pass-through 立替金
	KindIssueFee  LineKind = "issue_fee"  // カード発行費
	KindAnnualFee LineKind = "annual_fee" // カード年会費
)

// Line is one invoice line. Key identifies it within an invoice
// ("toll:<operator>:<record id>", "issue_fee:<card>",
// "annual_fee:<card>:<YYYY-MM>") and is what reconciliation matches on.
// Toll lines fill the usage fields; fee lines fill Reason (issue fee).
// Amount excludes tax; TaxRate is NotTaxed for tolls.
type Line struct {
	Key       string                 `json:"key"`
	Kind      LineKind               `json:"kind"`
	Card      card.CardNumber        `json:"card"`
	Vehicle   contract.VehicleNumber `json:"vehicle"`
	Operator  string                 `json:"operator,omitempty"`
	RecordID  string                 `json:"record_id,omitempty"`
	UsageDate domain.Date            `json:"usage_date,omitzero"`
	EntryIC   string                 `json:"entry_ic,omitempty"`
	EntryAt   time.Time              `json:"entry_at,omitzero"`
	ExitIC    string                 `json:"exit_ic,omitempty"`
	ExitAt    time.Time              `json:"exit_at,omitzero"`
	Reason    card.IssueReason       `json:"reason,omitempty"`
	Amount    money.Yen              `json:"amount"`
	TaxRate   TaxRate                `json:"tax_rate"`
}

func (l Line) equal(o Line) bool {
	return l.Key == o.Key && l.Kind == o.Kind && l.Card == o.Card && l.Vehicle == o.Vehicle && l.Operator == o.Operator &&
		l.RecordID == o.RecordID && l.UsageDate == o.UsageDate && l.EntryIC == o.EntryIC && l.EntryAt.Equal(o.EntryAt) &&
		l.ExitIC == o.ExitIC && l.ExitAt.Equal(o.ExitAt) && l.Reason == o.Reason && l.Amount == o.Amount && l.TaxRate == o.TaxRate
}

// MergeLines returns the lines of a and b in invoice-detail order (the
// order of a Statement's lines and of a commitment's hash): a line set kept
// in two parts (stored fee lines, toll lines rebuilt from usage records) is
// put back together with it. Each part is sorted first (at the cost of one
// pass when it is already in order), then the two are merged. Keys are
// unique within a set, so the order is total. a and b may be reordered.
func MergeLines(a, b []Line) []Line {
	sortLines(a)
	sortLines(b)
	out := make([]Line, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compareLines(&b[0], &a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// sortLines orders by card number, then issue fee, annual fee, tolls, then
// entry time, then key: the order of the invoice details. Lines already in
// order cost one pass; otherwise an index is sorted and each line moved
// once (a Line is large, and a sort's swaps would move it many times).
func sortLines(ls []Line) {
	if slices.IsSortedFunc(ls, func(a, b Line) int { return compareLines(&a, &b) }) {
		return
	}
	idx := make([]int32, len(ls))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int { return compareLines(&ls[i], &ls[j]) })
	sorted := make([]Line, len(ls))
	for k, i := range idx {
		sorted[k] = ls[i]
	}
	copy(ls, sorted)
}

// compareLines is the detail order (see sortLines).
func compareLines(a, b *Line) int {
	if c := strings.Compare(a.Card.String(), b.Card.String()); c != 0 {
		return c
	}
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	if c := a.EntryAt.Compare(b.EntryAt); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// kindRank places issue fees (and unknown kinds) first, then annual fees,
// then tolls.
func kindRank(k LineKind) int {
	switch k {
	case KindAnnualFee:
		return 1
	case KindToll:
		return 2
	}
	return 0
}

// RateTotal is the taxable base and the tax at one rate.
type RateTotal struct {
	Rate TaxRate   `json:"rate"`
	Base money.Yen `json:"base"`
	Tax  money.Yen `json:"tax"`
}

// Summary is the invoice summary (請求書サマリ): totals per kind, taxable
// base and tax per rate (highest rate first), and the grand total
// (tolls + fees + tax).
type Summary struct {
	Tolls      money.Yen   `json:"tolls"`
	IssueFees  money.Yen   `json:"issue_fees"`
	AnnualFees money.Yen   `json:"annual_fees"`
	Taxes      []RateTotal `json:"taxes"`
	Rounding   Rounding    `json:"rounding"`
	Total      money.Yen   `json:"total"`
}

// Summarize totals lines: tax once per rate on the sum of that rate's lines,
// rounded down.
func Summarize(lines []Line) Summary {
	s := Summary{Rounding: TaxRounding, Taxes: []RateTotal{}}
	bases := map[TaxRate]money.Yen{}
	for _, l := range lines {
		switch l.Kind {
		case KindToll:
			s.Tolls += l.Amount
		case KindIssueFee:
			s.IssueFees += l.Amount
		case KindAnnualFee:
			s.AnnualFees += l.Amount
		}
		if l.TaxRate != NotTaxed {
			bases[l.TaxRate] += l.Amount
		}
	}
	s.Total = s.Tolls + s.IssueFees + s.AnnualFees
	for rate, base := range bases {
		tax := TaxOn(base, rate)
		s.Taxes = append(s.Taxes, RateTotal{Rate: rate, Base: base, Tax: tax})
		s.Total += tax
	}
	slices.SortFunc(s.Taxes, func(a, b RateTotal) int { return cmp.Compare(b.Rate, a.Rate) })
	return s
}

// Issuer is the qualified invoice issuer.
type Issuer struct {
	Name               string                   `json:"name"`
	RegistrationNumber money.RegistrationNumber `json:"registration_number"`
}

// Statement is the content of one invoice: issuer, period, recipient, lines
// in detail order, and their summary. Compute builds it; treat it as a value.
type Statement struct {
	Issuer    Issuer          `json:"issuer"`
	Contract  contract.Number `json:"contract"`
	Recipient string          `json:"recipient"` // the customer's corporate name
	Period    money.YearMonth `json:"period"`
	Lines     []Line          `json:"lines"`
	Summary   Summary         `json:"summary"`
}

// CardDetail is the invoice detail (請求書明細) of one card number.
type CardDetail struct {
	Card    card.CardNumber
	Vehicle contract.VehicleNumber
	Fees    []Line // issue and annual fee lines
	Usages  []Line // toll lines by entry time: usage date, entry IC, exit IC, vehicle, exit time, toll
	Tolls   money.Yen
}

// Details groups the lines per card number, in card number order.
func (s Statement) Details() []CardDetail {
	var ds []CardDetail
	for _, l := range s.Lines {
		if len(ds) == 0 || ds[len(ds)-1].Card != l.Card {
			ds = append(ds, CardDetail{Card: l.Card, Vehicle: l.Vehicle})
		}
		d := &ds[len(ds)-1]
		if l.Kind == KindToll {
			d.Usages = append(d.Usages, l)
			d.Tolls += l.Amount
		} else {
			d.Fees = append(d.Fees, l)
		}
	}
	return ds
}
