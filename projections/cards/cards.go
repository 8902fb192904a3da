// Package cards holds the read models of the ETC card business: contracts,
// card status (per card, vehicle, customer; renewals due) and invoices
// (searchable; billing totals per month). Each projector is a pure function
// of the event log.
package cards

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// CardsName is the card status projector's durable name (checkpoint key and
// schema proj_cards); renaming it rebuilds the view from scratch.
const CardsName = "cards"

// Cards projects contracts and cards. The personal values (the customer's
// name and its alphabet form, each card's vehicle plate) rest only sealed
// under the contract's key, the data subject of the contract and its cards
// (columns names and vehicle), so destroying that key erases them in the
// view, its dead tuples, the WAL and every backup without touching a row.
// Nothing else in the view is personal: numbers, dates, states.
type Cards struct {
	// Seal seals a value under a data subject's key (es.Sealer).
	Seal ValueSealer
}

// ValueSealer seals a read model's personal value under its data subject's
// key (es.Sealer.SealValue); a shredded subject gives es.ErrShredded.
type ValueSealer interface {
	SealValue(ctx context.Context, subject string, plain []byte) ([]byte, error)
}

// names is the sealed JSON of a contract's customer names.
type names struct {
	CustomerName string `json:"customer_name"`
	AlphaName    string `json:"alpha_name"`
}

// seal seals plain under the contract, or gives nil when the contract's key
// is destroyed already (a replay after its erasure).
func (c Cards) seal(ctx context.Context, contractNo string, plain []byte) ([]byte, error) {
	sealed, err := c.Seal.SealValue(ctx, contractNo, plain)
	if errors.Is(err, es.ErrShredded) {
		return nil, nil
	}
	return sealed, err
}

func (Cards) Name() string { return CardsName }

// EventTypes implements projections.Selective.
func (Cards) EventTypes() []string {
	return projections.TypesOf(contract.Concluded{}, contract.BusinessDaysChanged{}, card.Issued{}, card.Renewed{}, card.Invalidated{}, card.Cancelled{}, card.RenewalNoticeRecorded{})
}

func (Cards) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS contracts (
    contract      text PRIMARY KEY,
    names         bytea,              -- customer and alphabet name, sealed under the contract
    lease_start   date NOT NULL,
    lease_end     date NOT NULL,
    business_days jsonb NOT NULL,
    concluded_on  date NOT NULL
);
CREATE TABLE IF NOT EXISTS cards (
    card             text PRIMARY KEY,
    contract         text NOT NULL,
    vehicle          bytea,           -- the plate, sealed under the contract
    card_type        text NOT NULL,
    expiry           text NOT NULL,
    state            text NOT NULL,
    first_issued_on  date NOT NULL,
    issued_on        date NOT NULL,
    reason           text NOT NULL,
    previous         text NOT NULL DEFAULT '',
    successor        text NOT NULL DEFAULT '',
    ended_on         date,
    renewal_notice_on date,
    version          bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS cards_contract ON cards (contract);
`)
	return err
}

func (c Cards) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case contract.Concluded:
			cal, _ := json.Marshal(e.BusinessDays)
			plain, _ := json.Marshal(names{CustomerName: e.CustomerName, AlphaName: e.AlphaName.String()})
			sealed, err := c.seal(ctx, e.Contract.String(), plain)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO contracts (contract, names, lease_start, lease_end, business_days, concluded_on) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (contract) DO NOTHING`,
				e.Contract.String(), sealed, e.Lease.Start().String(), e.Lease.End().String(), cal, e.ConcludedOn.String())
		case contract.BusinessDaysChanged:
			cal, _ := json.Marshal(e.BusinessDays)
			b.Queue(`UPDATE contracts SET business_days = $2 WHERE contract = $1`, e.Contract.String(), cal)
		case card.Issued:
			// A successor is inserted before its predecessor's end event
			// commits, so end the previous card here too (one card in use
			// per vehicle at every step).
			if !e.Previous.IsZero() {
				b.Queue(`UPDATE cards SET state = CASE WHEN $2 = 'renewal' THEN 'renewed' ELSE 'invalid' END, successor = $3, ended_on = $4 WHERE card = $1 AND state = 'in_use'`,
					e.Previous.String(), string(e.Reason), e.Card.String(), e.IssuedOn.String())
			}
			vehicle, err := c.seal(ctx, e.Contract.String(), []byte(e.Vehicle.String()))
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO cards (card, contract, vehicle, card_type, expiry, state, first_issued_on, issued_on, reason, previous, version)
				VALUES ($1,$2,$3,$4,$5,'in_use',$6,$7,$8,$9,$10) ON CONFLICT (card) DO NOTHING`,
				e.Card.String(), e.Contract.String(), vehicle, e.Type.String(), e.Expiry.String(),
				e.FirstIssuedOn.String(), e.IssuedOn.String(), string(e.Reason), e.Previous.String(), ev.Version)
		case card.Renewed:
			b.Queue(`UPDATE cards SET state = 'renewed', successor = $2, ended_on = $3, version = $4 WHERE card = $1`, e.Card.String(), e.Successor.String(), e.RenewedOn.String(), ev.Version)
		case card.Invalidated:
			b.Queue(`UPDATE cards SET state = 'invalid', successor = $2, ended_on = $3, version = $4 WHERE card = $1`, e.Card.String(), e.Successor.String(), e.InvalidatedOn.String(), ev.Version)
		case card.Cancelled:
			b.Queue(`UPDATE cards SET state = 'cancelled', ended_on = $2, version = $3 WHERE card = $1`, e.Card.String(), e.CancelledOn.String(), ev.Version)
		case card.RenewalNoticeRecorded:
			b.Queue(`UPDATE cards SET renewal_notice_on = $2, version = $3 WHERE card = $1`, e.Card.String(), e.RecordedOn.String(), ev.Version)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
