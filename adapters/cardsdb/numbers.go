// Package cardsdb holds the PostgreSQL adapters of the card business that
// are not the event store: card-number allocation, the usage-record loader
// and the one-off move of the retired card_registry into vehicle claim
// streams. They implement ports declared in commands/cards.
package cardsdb

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain/card"
)

// Numbers allocates card numbers from the card_serial sequence (migration
// 02000): prefix + serial + check digit (cards.CardNumbers). With a command
// ID the serial is remembered in card_number_allocations (migration 02010),
// so a retried command gets its first number again. An allocation is not a
// card: the card exists only once its stream is appended, so a number whose
// append failed is a harmless gap.
type Numbers struct {
	Pool   *pgxpool.Pool
	Prefix string
}

// Next returns the next number, or the one first given to commandID.
func (p Numbers) Next(ctx context.Context, commandID string) (card.CardNumber, error) {
	var serial int64
	var err error
	if commandID == "" {
		err = p.Pool.QueryRow(ctx, `SELECT nextval('card_serial')`).Scan(&serial)
	} else {
		err = p.Pool.QueryRow(ctx, `WITH ins AS (
				INSERT INTO card_number_allocations (command_id, serial) VALUES ($1, nextval('card_serial'))
				ON CONFLICT (command_id) DO NOTHING RETURNING serial)
			SELECT serial FROM ins UNION ALL SELECT serial FROM card_number_allocations WHERE command_id = $1 LIMIT 1`, commandID).Scan(&serial)
		if errors.Is(err, pgx.ErrNoRows) { // a concurrent twin committed after this statement's snapshot
			err = p.Pool.QueryRow(ctx, `SELECT serial FROM card_number_allocations WHERE command_id = $1`, commandID).Scan(&serial)
		}
	}
	if err != nil {
		return card.CardNumber{}, err
	}
	return card.NewCardNumber(p.Prefix, serial)
}

// Given returns the number first given to commandID, if any.
func (p Numbers) Given(ctx context.Context, commandID string) (card.CardNumber, bool, error) {
	var serial int64
	err := p.Pool.QueryRow(ctx, `SELECT serial FROM card_number_allocations WHERE command_id = $1`, commandID).Scan(&serial)
	if errors.Is(err, pgx.ErrNoRows) {
		return card.CardNumber{}, false, nil
	}
	if err != nil {
		return card.CardNumber{}, false, err
	}
	n, err := card.NewCardNumber(p.Prefix, serial)
	return n, err == nil, err
}
