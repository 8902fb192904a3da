package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands/accounts"
	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// StaffAccounts is the table of stores and staff accounts (migration 01001):
// the ports accounts.StaffWriter and accounts.StaffFinder. A change of role
// or store revokes the staff's tokens in its transaction and, once
// committed, tells Revocations' cache (if any) before it answers.
type StaffAccounts struct {
	Pool        *pgxpool.Pool
	Revocations Revocations
}

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

// ChangeStaff implements accounts.StaffChanger: the account row is locked,
// decided on, updated with version+1, and the staff's tokens are denied up
// to revokeAt, in one transaction.
func (s StaffAccounts) ChangeStaff(ctx context.Context, staffID string, expected int64, revokeAt time.Time,
	decide func(accounts.StaffAccount) (accounts.StaffAccount, bool, error)) (accounts.StaffAccount, int64, error) {
	var out accounts.StaffAccount
	var version int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var store *string
		err := tx.QueryRow(ctx, `SELECT staff_id, store_id, role, password_hash, version FROM setup_staff_accounts WHERE staff_id=$1 FOR UPDATE`, staffID).
			Scan(&out.StaffID, &store, &out.Role, &out.PasswordHash, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return accounts.ErrUnknownStaff
		}
		if err != nil {
			return err
		}
		if store != nil {
			out.StoreID = *store
		}
		if expected >= 0 && expected != version {
			return &es.WrongVersionError{Stream: accounts.StaffStream(staffID), Expected: es.ExpectedVersion(expected), Actual: version}
		}
		next, changed, err := decide(out)
		if err != nil || !changed {
			return err
		}
		var nextStore any
		if next.StoreID != "" {
			nextStore = next.StoreID
		}
		if err := tx.QueryRow(ctx, `UPDATE setup_staff_accounts SET role=$2, store_id=$3, version=version+1 WHERE staff_id=$1 RETURNING version`,
			staffID, next.Role, nextStore).Scan(&version); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23503" {
				return accounts.ErrUnknownStore
			}
			return err
		}
		if err := s.Revocations.revokeSubject(ctx, tx, accounts.StaffTokenSubject(staffID), revokeAt); err != nil {
			return err
		}
		out = next
		return nil
	})
	s.Revocations.Cache.Changed()
	if err != nil {
		return accounts.StaffAccount{}, 0, translate(err)
	}
	return out, version, nil
}

// ConsentDocuments keeps signed proxy-consent PDFs for the consent's 5
// years (table setup_consent_documents): the ports DocumentStore and
// DocumentDeleter of commands/setup. A PDF rests only sealed under the
// consent's key (AES-256-GCM, es.Sealer.SealValue), so the end of the
// consent's retention, which shreds that key, erases it in the table, its
// dead tuples, the WAL and every backup; the row's DELETE only tidies up.
type ConsentDocuments struct {
	Pool   *pgxpool.Pool
	Sealer *es.Sealer
}

// ConsentPDFWrite seals a signed consent PDF and returns its reference, the
// SHA-256 of the plain PDF, and the write that stores it, to be run in the
// transaction of the consent event's append (es.TxAppender), so that the
// PDF and its event commit together or not at all. A retry stores nothing
// new (keyed by consent and content). A shredded consent gives
// es.ErrShredded.
func (d ConsentDocuments) ConsentPDFWrite(ctx context.Context, consentID string, pdf []byte) (string, es.TxWrite, error) {
	h := sha256.Sum256(pdf)
	ref := "sha256:" + hex.EncodeToString(h[:])
	sealed, err := d.Sealer.SealValue(ctx, consentID, pdf)
	if err != nil {
		return "", nil, err
	}
	write := func(ctx context.Context, tx es.TxExec) error {
		return tx.Exec(ctx, `INSERT INTO setup_consent_documents (consent_id, sha256, pdf, sealed) VALUES ($1,$2,$3,true) ON CONFLICT (consent_id, sha256) DO NOTHING`, consentID, ref, sealed)
	}
	return ref, write, nil
}

// SealLegacy seals the PDFs stored in plaintext before sealing existed
// (migration 06000) under their consents' keys, then rewrites the table
// (VACUUM FULL) so that no dead tuple keeps the plaintext. A consent whose
// key is already shredded has its PDF deleted instead. WAL segments and
// backups taken before keep the plaintext until they are recycled or
// expire. Returns how many PDFs were sealed and deleted.
func (d ConsentDocuments) SealLegacy(ctx context.Context) (sealed, deleted int, err error) {
	rows, err := d.Pool.Query(ctx, `SELECT consent_id, sha256, pdf FROM setup_consent_documents WHERE NOT sealed`)
	if err != nil {
		return 0, 0, err
	}
	type doc struct {
		consent, ref string
		pdf          []byte
	}
	var docs []doc
	for rows.Next() {
		var x doc
		if err := rows.Scan(&x.consent, &x.ref, &x.pdf); err != nil {
			rows.Close()
			return 0, 0, err
		}
		docs = append(docs, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, x := range docs {
		enc, err := d.Sealer.SealValue(ctx, x.consent, x.pdf)
		if errors.Is(err, es.ErrShredded) {
			if _, err := d.Pool.Exec(ctx, `DELETE FROM setup_consent_documents WHERE consent_id=$1 AND sha256=$2`, x.consent, x.ref); err != nil {
				return sealed, deleted, err
			}
			deleted++
			continue
		}
		if err != nil {
			return sealed, deleted, err
		}
		if _, err := d.Pool.Exec(ctx, `UPDATE setup_consent_documents SET pdf=$3, sealed=true WHERE consent_id=$1 AND sha256=$2 AND NOT sealed`, x.consent, x.ref, enc); err != nil {
			return sealed, deleted, err
		}
		sealed++
	}
	if sealed+deleted > 0 {
		_, err = d.Pool.Exec(ctx, `VACUUM FULL setup_consent_documents`)
	}
	return sealed, deleted, err
}

// PurgeOrphans deletes the PDFs stored more than grace ago whose consent
// event does not reference them. Since PDFs are written in their event's
// transaction (ConsentPDFWrite) none arises any more; it removes those left
// by the earlier design, which stored a PDF before its append (a failed
// append, or another store's append won the consent ID). It reads the event log, not
// a view, so a lagging projector never makes a live PDF look orphaned.
func (d ConsentDocuments) PurgeOrphans(ctx context.Context, grace time.Duration) (int64, error) {
	tag, err := d.Pool.Exec(ctx, `DELETE FROM setup_consent_documents d WHERE stored_at < now() - make_interval(secs => $1)
		AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = 'consent-' || d.consent_id AND e.type = 'application.consent_recorded'
			AND e.data->>'signed_pdf' = d.sha256)`, grace.Seconds())
	return tag.RowsAffected(), err
}

// ConsentPDF returns the consent's signed PDF with the reference ref; found
// is false when there is none, erased true when its key is gone (retention
// ended).
func (d ConsentDocuments) ConsentPDF(ctx context.Context, consentID, ref string) (pdf []byte, found, erased bool, err error) {
	var sealed bool
	err = d.Pool.QueryRow(ctx, `SELECT pdf, sealed FROM setup_consent_documents WHERE consent_id=$1 AND sha256=$2`, consentID, ref).Scan(&pdf, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil || !sealed {
		return pdf, err == nil, false, err
	}
	ring, err := d.Sealer.Keys(ctx, []string{consentID})
	if err != nil {
		return nil, true, false, err
	}
	plain, ok, err := ring.Open(consentID, pdf)
	return plain, true, !ok && err == nil, err
}

// DeleteConsentPDF deletes it at the end of the consent's retention (after
// the key is shredded); deleting one that is gone is no error.
func (d ConsentDocuments) DeleteConsentPDF(ctx context.Context, consentID string) error {
	_, err := d.Pool.Exec(ctx, `DELETE FROM setup_consent_documents WHERE consent_id=$1`, consentID)
	return err
}

// StoreExists says whether a setup store has this code (the port
// commands/setup.Stores).
func (s StaffAccounts) StoreExists(ctx context.Context, storeID string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM setup_stores WHERE store_id = $1)`, storeID).Scan(&ok)
	return ok, err
}
