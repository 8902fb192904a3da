package billing

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// Default fees (amounts excluding tax).
const (
	DefaultIssueFee  money.Yen = 500  // カード発行費 per card
	DefaultAnnualFee money.Yen = 1000 // カード年会費 per card chain per year
)

// Settings are the issuer's billing settings.
type Settings struct {
	issuer    Issuer
	issueFee  money.Yen
	annualFee money.Yen
	feeRate   TaxRate
}

// NewSettings validates the issuer (name, registration number) and the fees
// (≥ 0, excluding tax). Fees are taxed at StandardRate.
func NewSettings(issuerName string, reg money.RegistrationNumber, issueFee, annualFee money.Yen) (Settings, error) {
	issuerName = strings.TrimSpace(issuerName)
	switch {
	case issuerName == "":
		return Settings{}, ErrInvalidSettings.With("issuer_name", "Give the issuer's name as registered.")
	case reg.IsZero():
		return Settings{}, ErrInvalidSettings.With("registration_number", "Give the issuer's qualified invoice registration number.")
	case issueFee < 0 || annualFee < 0:
		return Settings{}, ErrInvalidSettings.With("fee", "Fees must be zero or more yen.")
	}
	return Settings{Issuer{issuerName, reg}, issueFee, annualFee, StandardRate}, nil
}

func (s Settings) Issuer() Issuer       { return s.issuer }
func (s Settings) IssueFee() money.Yen  { return s.issueFee }
func (s Settings) AnnualFee() money.Yen { return s.annualFee }

// Customer is the invoice recipient.
type Customer struct {
	Contract contract.Number
	Name     string // corporate name as on the contract
}

// Compute is the invoice content for customer's month. cards must include
// every card of the contract in use at any time during month (passing all
// cards ever issued is fine); usage may span more than the month — records
// whose usage date is outside month are skipped.
//
//   - Toll lines: each usage record whose usage date is in month, one line,
//     not taxed. Identical duplicates (same operator and record ID) count
//     once; differing duplicates are ErrDuplicateUsage; a record for a card
//     not in cards is ErrUnknownUsageCard.
//   - Issue fee lines: each card issued in month, IssueFee at 10%, except
//     reissues for magnetic fault or damage (no line).
//   - Annual fee lines: per card chain (linked by Previous), when month is the
//     first-issue month or a multiple of 12 months after it and a card of the
//     chain was in use during month: AnnualFee at 10% on the chain's latest
//     card in use during month.
//   - Summary: Summarize (tax once per rate, rounded down).
func Compute(s Settings, customer Customer, month money.YearMonth, cards []CardRecord, usage []UsageRecord) (Statement, error) {
	switch {
	case s.issuer.Name == "":
		return Statement{}, ErrInvalidSettings
	case customer.Contract.IsZero() || strings.TrimSpace(customer.Name) == "":
		return Statement{}, ErrInvalidStatement.With("customer", "Give the customer's contract number and name.")
	case month.IsZero():
		return Statement{}, money.ErrInvalidYearMonth.With("period", "Give the billing month.")
	}
	byNumber := make(map[card.CardNumber]CardRecord, len(cards))
	for _, c := range cards {
		byNumber[c.Card] = c
	}
	// Toll lines and fee lines are built apart and merged in detail order
	// (tolls arrive mostly in it: the merge then costs a pass).
	var lines, fees []Line

	seen := map[string]UsageRecord{}
	for _, u := range usage {
		if !month.Contains(u.UsageDate()) {
			continue
		}
		if prev, ok := seen[u.Key()]; ok {
			if !prev.same(u) {
				return Statement{}, ErrDuplicateUsage.Withf("record_id", "Road operator %s sent record %s twice with different contents.", u.operator, u.recordID)
			}
			continue
		}
		seen[u.Key()] = u
		if _, ok := byNumber[u.card]; !ok {
			return Statement{}, ErrUnknownUsageCard.Withf("card", "Usage record %s names card %s, which is not a card of contract %s.", u.Key(), u.card, customer.Contract)
		}
		lines = append(lines, TollLine(u))
	}

	for _, c := range cards {
		if c.IssuedOn.IsZero() || !month.Contains(c.IssuedOn) || c.Reason.IssueFeeExempt() {
			continue
		}
		fees = append(fees, Line{
			Key: "issue_fee:" + c.Card.String(), Kind: KindIssueFee, Card: c.Card, Vehicle: c.Vehicle,
			Reason: c.Reason, Amount: s.issueFee, TaxRate: s.feeRate,
		})
	}

	for _, c := range annualFeeCards(month, byNumber) {
		fees = append(fees, Line{
			Key: "annual_fee:" + c.Card.String() + ":" + month.String(), Kind: KindAnnualFee, Card: c.Card, Vehicle: c.Vehicle,
			Amount: s.annualFee, TaxRate: s.feeRate,
		})
	}

	lines = MergeLines(lines, fees)
	return Statement{
		Issuer: s.issuer, Contract: customer.Contract, Recipient: strings.Join(strings.Fields(customer.Name), " "),
		Period: month, Lines: lines, Summary: Summarize(lines),
	}, nil
}

// TollLine is the invoice line that bills usage record u: a toll line is
// a function of its record alone, so a line store may keep a reference to
// the (immutable) records instead of the lines (adapters/cardsdb).
func TollLine(u UsageRecord) Line {
	return Line{
		Key: "toll:" + u.Key(), Kind: KindToll, Card: u.card, Vehicle: u.vehicle,
		Operator: u.operator, RecordID: u.recordID, UsageDate: u.UsageDate(),
		EntryIC: u.entryIC, EntryAt: u.entryAt, ExitIC: u.exitIC, ExitAt: u.exitAt,
		Amount: u.toll, TaxRate: NotTaxed,
	}
}

// annualFeeCards picks, per chain due in month, the chain's latest card in
// use during month.
func annualFeeCards(month money.YearMonth, byNumber map[card.CardNumber]CardRecord) []CardRecord {
	type pick struct {
		c     CardRecord
		depth int
	}
	chains := map[card.CardNumber]pick{}
	for _, c := range byNumber {
		if !c.inUseDuring(month) || c.FirstIssuedOn.IsZero() {
			continue
		}
		k := month.MonthsSince(money.YearMonthOf(c.FirstIssuedOn))
		if k < 0 || k%12 != 0 {
			continue
		}
		root, depth := c.Card, 0
		for p := c.Previous; !p.IsZero() && depth < len(byNumber); depth++ {
			prev, ok := byNumber[p]
			if !ok {
				break
			}
			root, p = prev.Card, prev.Previous
		}
		if cur, ok := chains[root]; !ok || depth > cur.depth || depth == cur.depth && c.Card.String() > cur.c.Card.String() {
			chains[root] = pick{c, depth}
		}
	}
	out := make([]CardRecord, 0, len(chains))
	for _, p := range chains {
		out = append(out, p.c)
	}
	slices.SortFunc(out, func(a, b CardRecord) int { return cmp.Compare(a.Card.String(), b.Card.String()) })
	return out
}
