package billing

import (
	"strings"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// UsageFields are the fields of a road operator's usage record (通行記録) as
// read from EDI, before validation.
type UsageFields struct {
	RecordID string
	Operator string // road operator (道路事業者) code or name
	Card     string // 16-digit card number
	Vehicle  string // vehicle registration number read at the gate
	EntryIC  string
	EntryAt  time.Time
	ExitIC   string
	ExitAt   time.Time
	Toll     int64 // yen
}

// UsageRecord is a validated usage record. Its identity is (operator,
// record ID).
type UsageRecord struct {
	recordID, operator string
	card               card.CardNumber
	vehicle            contract.VehicleNumber
	entryIC, exitIC    string
	entryAt, exitAt    time.Time
	toll               money.Yen
}

// NewUsageRecord validates: record ID, operator and both IC names present;
// card number 16 digits with a valid check digit; vehicle number valid;
// entry and exit times present and exit not before entry; toll ≥ 0. Times
// are kept in Japan time.
func NewUsageRecord(f UsageFields) (UsageRecord, error) {
	id, op := strings.TrimSpace(f.RecordID), strings.TrimSpace(f.Operator)
	in, out := strings.TrimSpace(f.EntryIC), strings.TrimSpace(f.ExitIC)
	switch {
	case id == "":
		return UsageRecord{}, ErrInvalidUsage.With("record_id", "The usage record has no record ID.")
	case op == "":
		return UsageRecord{}, ErrInvalidUsage.Withf("operator", "Usage record %s has no road operator.", id)
	case in == "" || out == "":
		return UsageRecord{}, ErrInvalidUsage.Withf("ic", "Usage record %s lacks an entry or exit IC name.", id)
	case f.EntryAt.IsZero() || f.ExitAt.IsZero():
		return UsageRecord{}, ErrInvalidUsage.Withf("entry_at", "Usage record %s lacks an entry or exit time.", id)
	case f.ExitAt.Before(f.EntryAt):
		return UsageRecord{}, ErrInvalidUsage.Withf("exit_at", "Usage record %s exits at %s, before it entered at %s.", id, f.ExitAt.In(domain.Tokyo).Format(time.DateTime), f.EntryAt.In(domain.Tokyo).Format(time.DateTime))
	case f.Toll < 0:
		return UsageRecord{}, ErrInvalidUsage.Withf("toll", "Usage record %s has a negative toll %d.", id, f.Toll)
	}
	n, err := card.ParseCardNumber(f.Card)
	if err != nil {
		return UsageRecord{}, err
	}
	v, err := contract.ParseVehicleNumber(f.Vehicle)
	if err != nil {
		return UsageRecord{}, err
	}
	return UsageRecord{id, op, n, v, in, out, f.EntryAt.In(domain.Tokyo), f.ExitAt.In(domain.Tokyo), money.Yen(f.Toll)}, nil
}

func (u UsageRecord) RecordID() string                { return u.recordID }
func (u UsageRecord) Operator() string                { return u.operator }
func (u UsageRecord) Card() card.CardNumber           { return u.card }
func (u UsageRecord) Vehicle() contract.VehicleNumber { return u.vehicle }
func (u UsageRecord) EntryIC() string                 { return u.entryIC }
func (u UsageRecord) EntryAt() time.Time              { return u.entryAt }
func (u UsageRecord) ExitIC() string                  { return u.exitIC }
func (u UsageRecord) ExitAt() time.Time               { return u.exitAt }
func (u UsageRecord) Toll() money.Yen                 { return u.toll }

// UsageDate is the usage date (利用日): the Japan-time date the vehicle
// entered the toll road.
func (u UsageRecord) UsageDate() domain.Date { return domain.DateOf(u.entryAt) }

// Key is the record's identity "operator:record ID".
func (u UsageRecord) Key() string { return u.operator + ":" + u.recordID }

func (u UsageRecord) same(o UsageRecord) bool {
	return u.recordID == o.recordID && u.operator == o.operator && u.card == o.card && u.vehicle == o.vehicle &&
		u.entryIC == o.entryIC && u.exitIC == o.exitIC && u.entryAt.Equal(o.entryAt) && u.exitAt.Equal(o.exitAt) && u.toll == o.toll
}

// CardRecord is what billing needs of one card: identity, vehicle, how and
// when it was issued, the card it replaced, and when it stopped being in use.
type CardRecord struct {
	Card          card.CardNumber
	Vehicle       contract.VehicleNumber
	Reason        card.IssueReason
	FirstIssuedOn domain.Date
	IssuedOn      domain.Date
	EndedOn       domain.Date     // last day in use; zero while in use
	Previous      card.CardNumber // zero for a new issue
}

// CardRecordOf takes the billing facts from a card aggregate.
func CardRecordOf(c *card.Card) CardRecord {
	return CardRecord{
		Card: c.Number(), Vehicle: c.Vehicle(), Reason: c.Reason(), FirstIssuedOn: c.FirstIssuedOn(),
		IssuedOn: c.IssuedOn(), EndedOn: c.EndedOn(), Previous: c.Previous(),
	}
}

// inUseDuring reports whether the card was in use on at least one day of m.
func (c CardRecord) inUseDuring(m money.YearMonth) bool {
	if c.IssuedOn.IsZero() || m.LastDay().Before(c.IssuedOn) {
		return false
	}
	return c.EndedOn.IsZero() || !c.EndedOn.Before(m.FirstDay())
}
