package cards

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// PGCardNumbers allocates from the card_serial sequence (migration 02000).
type PGCardNumbers struct {
	Pool   *pgxpool.Pool
	Prefix string
}

// Next takes the next serial and builds prefix + serial + check digit.
func (p PGCardNumbers) Next(ctx context.Context) (card.CardNumber, error) {
	var serial int64
	if err := p.Pool.QueryRow(ctx, `SELECT nextval('card_serial')`).Scan(&serial); err != nil {
		return card.CardNumber{}, err
	}
	return card.NewCardNumber(p.Prefix, serial)
}

// PGInUse is InUse on table card_registry.
type PGInUse struct{ Pool *pgxpool.Pool }

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (p PGInUse) Reserve(ctx context.Context, c card.CardNumber, n contract.Number, v contract.VehicleNumber) error {
	_, err := p.Pool.Exec(ctx, `INSERT INTO card_registry (card, contract, vehicle_key, state) VALUES ($1,$2,$3,'in_use')`, c.String(), n.String(), v.Key())
	if isUnique(err) {
		return card.ErrCardInUse.Withf("vehicle", "Vehicle %s already has a card in use; reissue or renew that card instead of issuing a new one.", v)
	}
	return err
}

func (p PGInUse) Release(ctx context.Context, c card.CardNumber) error {
	_, err := p.Pool.Exec(ctx, `DELETE FROM card_registry WHERE card = $1`, c.String())
	return err
}

func (p PGInUse) Succeed(ctx context.Context, old, successor card.CardNumber, oldState card.State) error {
	tx, err := p.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var contractNo, vehicle string
	err = tx.QueryRow(ctx, `UPDATE card_registry SET state = $2 WHERE card = $1 AND state = 'in_use' RETURNING contract, vehicle_key`, old.String(), string(oldState)).Scan(&contractNo, &vehicle)
	if err != nil {
		return card.ErrCardNotInUse.Withf("card", "Card %s is no longer in use; act on the card that replaced it.", old)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO card_registry (card, contract, vehicle_key, state) VALUES ($1,$2,$3,'in_use')`, successor.String(), contractNo, vehicle); err != nil {
		if isUnique(err) {
			return card.ErrCardInUse
		}
		return err
	}
	return tx.Commit(ctx)
}

func (p PGInUse) Undo(ctx context.Context, old, successor card.CardNumber) error {
	tx, err := p.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM card_registry WHERE card = $1`, successor.String()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE card_registry SET state = 'in_use' WHERE card = $1`, old.String()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (p PGInUse) SetState(ctx context.Context, c card.CardNumber, s card.State) error {
	_, err := p.Pool.Exec(ctx, `UPDATE card_registry SET state = $2 WHERE card = $1`, c.String(), string(s))
	return err
}
