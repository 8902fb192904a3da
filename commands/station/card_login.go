package station

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/domain/cardauth"
)

// FaceVerifier is the face step of staff login: an external face-matching
// service compares image with the staff member's registered face.
type FaceVerifier interface {
	Verify(ctx context.Context, staffID string, image []byte) (bool, error)
}

// CardLogin is a staff login with an IC card: the challenge, the serial the
// card reported, its signature over cardauth.Digest(PurposeStaffLogin,
// nonce), and the face image for the second factor.
type CardLogin struct {
	ChallengeID string
	CardSerial  string
	Signature   []byte
	FaceImage   []byte
}

// Staff is who logged in.
type Staff struct {
	StaffID string
	Role    string
	StoreID string
}

// CardLoginHandler checks both factors. Face nil with FaceOff false refuses
// every card login (ErrFaceNotConfigured); FaceOff (GANTRY_FACE=off)
// allows card-only login.
type CardLoginHandler struct {
	DB      DB
	Clock   Clock
	Face    FaceVerifier
	FaceOff bool
}

// Handle consumes the challenge and checks, in one transaction, the
// challenge, the card (enrolled, not revoked), the signature, then the
// face. A failed attempt uses the challenge up all the same.
func (h CardLoginHandler) Handle(ctx context.Context, cmd CardLogin) (Staff, error) {
	if h.Face == nil && !h.FaceOff {
		return Staff{}, ErrFaceNotConfigured
	}
	if strings.TrimSpace(cmd.CardSerial) == "" {
		return Staff{}, ErrMissingSerial.With("card_serial", "")
	}
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return Staff{}, err
	}
	defer tx.Rollback(ctx)
	now := h.Clock.Now()
	nonce, _, err := consume(ctx, tx, cmd.ChallengeID, cardauth.PurposeStaffLogin, now)
	if err != nil {
		return Staff{}, finish(ctx, tx, errors.Is(err, ErrChallengeExpired), err)
	}
	st, err := h.check(ctx, tx, cmd, nonce)
	return st, finish(ctx, tx, true, err)
}

func (h CardLoginHandler) check(ctx context.Context, tx pgx.Tx, cmd CardLogin, nonce []byte) (Staff, error) {
	var st Staff
	var store *string
	var pub []byte
	var revoked *time.Time
	err := tx.QueryRow(ctx, `SELECT c.staff_id, a.role, a.store_id, c.public_key, c.revoked_at
		FROM station_staff_cards c JOIN setup_staff_accounts a USING (staff_id) WHERE c.card_serial = $1`, cmd.CardSerial).
		Scan(&st.StaffID, &st.Role, &store, &pub, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, ErrCardUnknown
	}
	if err != nil {
		return Staff{}, err
	}
	if revoked != nil {
		return Staff{}, ErrCardRevoked
	}
	key, err := parseKey(pub)
	if err != nil {
		return Staff{}, err
	}
	d := cardauth.Digest(cardauth.PurposeStaffLogin, nonce)
	if !ecdsa.VerifyASN1(key, d[:], cmd.Signature) {
		return Staff{}, ErrBadSignature
	}
	if store != nil {
		st.StoreID = *store
	}
	if h.Face == nil { // FaceOff: card only
		return st, nil
	}
	ok, err := h.Face.Verify(ctx, st.StaffID, cmd.FaceImage)
	if err != nil {
		return Staff{}, ErrFaceUnavailable.With("face_image", "The face verification service cannot answer now ("+err.Error()+"); try again shortly.")
	}
	if !ok {
		return Staff{}, ErrFaceMismatch
	}
	return st, nil
}

// parseKey reads an uncompressed P-256 point.
func parseKey(pub []byte) (*ecdsa.PublicKey, error) {
	if len(pub) != 65 || pub[0] != 0x04 {
		return nil, ErrBadPublicKey.With("public_key", "")
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), pub) //nolint:staticcheck // the card's wire format
	if x == nil {
		return nil, ErrBadPublicKey.With("public_key", "")
	}
	return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
}
