package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands/accounts"
)

// StaffAccounts is the table of stores and staff accounts (migration 01001):
// the ports accounts.StaffWriter and accounts.StaffFinder.
type StaffAccounts struct{ Pool *pgxpool.Pool }

// InsertStaff stores the store (unless it exists) and the account in one
// transaction; inserted is false, and nothing is written, when the staff ID
// exists.
func (s StaffAccounts) InsertStaff(ctx context.Context, a accounts.StaffAccount) (inserted bool, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var store any
		if a.StoreID != "" {
			store = a.StoreID
			if _, err := tx.Exec(ctx, `INSERT INTO setup_stores (store_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, a.StoreID, a.StoreName); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO setup_staff_accounts (staff_id, store_id, role, password_hash) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`,
			a.StaffID, store, a.Role, a.PasswordHash)
		if err != nil {
			return err
		}
		if inserted = tag.RowsAffected() == 1; !inserted {
			return errStaffExists // roll the store back too
		}
		return nil
	})
	if errors.Is(err, errStaffExists) {
		return false, nil
	}
	return inserted, err
}

var errStaffExists = errors.New("staff exists")

// FindStaff returns the account with the staff ID, or found false.
func (s StaffAccounts) FindStaff(ctx context.Context, staffID string) (a accounts.StaffAccount, found bool, err error) {
	var store *string
	err = s.Pool.QueryRow(ctx, `SELECT staff_id, store_id, role, password_hash FROM setup_staff_accounts WHERE staff_id=$1`, staffID).
		Scan(&a.StaffID, &store, &a.Role, &a.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return accounts.StaffAccount{}, false, nil
	}
	if err != nil {
		return accounts.StaffAccount{}, false, err
	}
	if store != nil {
		a.StoreID = *store
	}
	return a, true, nil
}

// ConsentDocuments keeps signed proxy-consent PDFs for the consent's 5
// years (table setup_consent_documents): the ports DocumentStore and
// DocumentDeleter of commands/setup.
type ConsentDocuments struct{ Pool *pgxpool.Pool }

// PutConsentPDF stores a signed consent PDF and returns its reference, its
// SHA-256. Content-addressed: a retry stores nothing new.
func (d ConsentDocuments) PutConsentPDF(ctx context.Context, consentID string, pdf []byte) (string, error) {
	h := sha256.Sum256(pdf)
	ref := "sha256:" + hex.EncodeToString(h[:])
	_, err := d.Pool.Exec(ctx, `INSERT INTO setup_consent_documents (consent_id, sha256, pdf) VALUES ($1,$2,$3) ON CONFLICT (consent_id) DO NOTHING`, consentID, ref, pdf)
	return ref, err
}

// DeleteConsentPDF deletes it at the end of the consent's retention; deleting
// one that is gone is no error.
func (d ConsentDocuments) DeleteConsentPDF(ctx context.Context, consentID string) error {
	_, err := d.Pool.Exec(ctx, `DELETE FROM setup_consent_documents WHERE consent_id=$1`, consentID)
	return err
}
