package station

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// RevokeCard revokes a lost or returned staff card; its logins fail from
// then on.
type RevokeCard struct {
	By         Admin
	CardSerial string
}

// RevokeCardHandler revokes cards.
type RevokeCardHandler struct {
	DB    DB
	Clock Clock
}

// Handle revokes the card (a store admin only its own store's staff's).
func (h RevokeCardHandler) Handle(ctx context.Context, cmd RevokeCard) error {
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var staff string
	var revoked *time.Time
	err = tx.QueryRow(ctx, `SELECT staff_id, revoked_at FROM station_staff_cards WHERE card_serial = $1 FOR UPDATE`, cmd.CardSerial).Scan(&staff, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrCardNotFound.With("serial", "")
	}
	if err != nil {
		return err
	}
	if revoked != nil {
		return ErrAlreadyRevoked
	}
	if err := sameStore(ctx, tx, cmd.By, staff); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE station_staff_cards SET revoked_at = $2, revoked_by = $3 WHERE card_serial = $1`, cmd.CardSerial, h.Clock.Now(), cmd.By.StaffID); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
