package station

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-etc/gantry/domain/cardauth"
)

// Admin is who enrols or revokes: an operator admin (any staff) or a store
// admin (its own store's staff; StoreID set).
type Admin struct {
	StaffID string
	StoreID string // empty: operator admin
}

// EnrolCard registers a staff card to StaffID. The card proves it holds the
// private key by signing cardauth.Digest(PurposeStaffEnrol, nonce) of an
// enrolment challenge.
type EnrolCard struct {
	By          Admin
	StaffID     string
	CardSerial  string
	PublicKey   []byte
	ChallengeID string
	Signature   []byte
}

// EnrolCardHandler enrols cards.
type EnrolCardHandler struct {
	DB    DB
	Clock Clock
}

// Handle checks the proof of possession and registers the card, in one
// transaction with the challenge's consumption.
func (h EnrolCardHandler) Handle(ctx context.Context, cmd EnrolCard) error {
	if strings.TrimSpace(cmd.CardSerial) == "" {
		return ErrMissingSerial.With("card_serial", "")
	}
	key, err := parseKey(cmd.PublicKey)
	if err != nil {
		return err
	}
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := h.Clock.Now()
	nonce, _, err := consume(ctx, tx, cmd.ChallengeID, cardauth.PurposeStaffEnrol, now)
	if err != nil {
		return finish(ctx, tx, errors.Is(err, ErrChallengeExpired), err)
	}
	d := cardauth.Digest(cardauth.PurposeStaffEnrol, nonce)
	if !ecdsa.VerifyASN1(key, d[:], cmd.Signature) {
		return finish(ctx, tx, true, ErrBadSignature)
	}
	if err := sameStore(ctx, tx, cmd.By, cmd.StaffID); err != nil {
		return finish(ctx, tx, true, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO station_staff_cards (card_serial, staff_id, public_key, enrolled_at, enrolled_by) VALUES ($1,$2,$3,$4,$5)`,
		cmd.CardSerial, cmd.StaffID, cmd.PublicKey, now, cmd.By.StaffID)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return ErrCardEnrolled.With("card_serial", "")
	}
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// sameStore checks that staffID exists and that a store admin acts on its
// own store's staff.
func sameStore(ctx context.Context, tx pgx.Tx, by Admin, staffID string) error {
	var store *string
	err := tx.QueryRow(ctx, `SELECT store_id FROM setup_staff_accounts WHERE staff_id = $1`, staffID).Scan(&store)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrStaffNotFound.With("staff_id", "")
	}
	if err != nil {
		return err
	}
	if by.StoreID != "" && (store == nil || *store != by.StoreID) {
		return ErrOtherStore
	}
	return nil
}
