package cardsdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain/card"
)

// LegacyRegistry is the retired card_registry, renamed card_registry_legacy
// by migration 02010 (cards.LegacyRegistry).
type LegacyRegistry struct{ Pool *pgxpool.Pool }

// InUse lists the in-use cards of the old registry; present is false when
// the table is gone.
func (l LegacyRegistry) InUse(ctx context.Context) ([]card.CardNumber, bool, error) {
	var present bool
	if err := l.Pool.QueryRow(ctx, `SELECT to_regclass('card_registry_legacy') IS NOT NULL`).Scan(&present); err != nil || !present {
		return nil, false, err
	}
	rows, err := l.Pool.Query(ctx, `SELECT card FROM card_registry_legacy WHERE state = 'in_use' ORDER BY card`)
	if err != nil {
		return nil, true, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, true, err
	}
	out := make([]card.CardNumber, len(found))
	for i, s := range found {
		if out[i], err = card.ParseCardNumber(s); err != nil {
			return nil, true, fmt.Errorf("card_registry_legacy row %q: %w", s, err)
		}
	}
	return out, true, nil
}

// Drop removes the old registry.
func (l LegacyRegistry) Drop(ctx context.Context) error {
	_, err := l.Pool.Exec(ctx, `DROP TABLE IF EXISTS card_registry_legacy`)
	return err
}
