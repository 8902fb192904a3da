// Package station holds the server-side commands of the store station
// (issue 11): one-time challenges, staff IC-card enrolment, revocation and
// login with the face step, the setup-card record and its verified write
// (step 8), and the My Number card (JPKI) identity check (step 6). The
// server never talks to a reader: the station sends what the card
// answered, and these commands check it. One command per file.
package station

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-etc/gantry/domain"
)

// DB is what the commands need of PostgreSQL (a *pgxpool.Pool).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Clock is the injected time.
type Clock interface{ Now() time.Time }

// Errors a caller (the API) branches on. The Unauthenticated ones become
// 401: they say what failed without helping a guesser.
var (
	ErrChallengeUnknown  = domain.Forbidden("challenge_unknown", "The challenge is unknown or was already used; ask for a new one.")
	ErrChallengeExpired  = domain.Gone("challenge_expired", "The challenge has expired; ask for a new one and sign it within its time.")
	ErrCardUnknown       = domain.Forbidden("card_not_enrolled", "This card is not enrolled to any staff account; an administrator must enrol it first.")
	ErrCardRevoked       = domain.Forbidden("card_revoked", "This card was revoked (reported lost); use your new card or ask an administrator.")
	ErrBadSignature      = domain.Forbidden("bad_card_signature", "The card's signature does not match the challenge and the enrolled key.")
	ErrFaceMismatch      = domain.Forbidden("face_not_matched", "The face check did not match the card's holder.")
	ErrFaceUnavailable   = domain.Unavailable("face_unavailable", "The face verification service cannot answer now; try again shortly.")
	ErrFaceNotConfigured = domain.Unavailable("face_not_configured", "Card login needs the face step, and no face verification service is configured (GANTRY_FACE_URL); an operator may allow card-only login with GANTRY_FACE=off.")
	ErrCardEnrolled      = domain.Conflict("card_already_enrolled", "This card is already enrolled; revoke it first to give it to someone else.")
	ErrStaffNotFound     = domain.NotFound("staff_not_found", "There is no staff account with this ID.")
	ErrOtherStore        = domain.Forbidden("other_store", "A store admin manages the cards of its own store's staff only.")
	ErrCardNotFound      = domain.NotFound("card_not_found", "No enrolled card has this serial.")
	ErrAlreadyRevoked    = domain.Conflict("card_already_revoked", "This card is already revoked.")
	ErrBadPublicKey      = domain.Invalid("bad_public_key", "The public key must be an uncompressed ECDSA P-256 point (65 bytes, starting 04).")
	ErrMissingSerial     = domain.Invalid("missing_card_serial", "Give the card serial the card reported.")
)

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// consume marks the challenge used inside tx and answers its nonce and
// subject. Unknown or used: ErrChallengeUnknown; past its expiry:
// ErrChallengeExpired (it is consumed all the same).
func consume(ctx context.Context, tx pgx.Tx, id, purpose string, now time.Time) (nonce []byte, subject string, err error) {
	var exp time.Time
	err = tx.QueryRow(ctx, `UPDATE station_challenges SET used_at = $3 WHERE challenge_id = $1 AND purpose = $2 AND used_at IS NULL RETURNING nonce, subject, expires_at`,
		id, purpose, now).Scan(&nonce, &subject, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrChallengeUnknown
	}
	if err != nil {
		return nil, "", err
	}
	if !now.Before(exp) {
		return nil, "", ErrChallengeExpired
	}
	return nonce, subject, nil
}

// finish commits tx when the challenge was consumed (a failed attempt
// still uses it up) and answers err.
func finish(ctx context.Context, tx pgx.Tx, consumed bool, err error) error {
	if !consumed {
		return err
	}
	if cerr := tx.Commit(ctx); cerr != nil {
		return cerr
	}
	return err
}
