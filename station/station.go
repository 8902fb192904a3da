package station

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gantry-etc/gantry/domain/cardauth"
)

// Station runs the store-side flows: Cards is the reader, API the server.
type Station struct {
	Cards Cards
	API   *Client
}

type challenge struct {
	ChallengeID string    `json:"challenge_id"`
	Nonce       []byte    `json:"nonce"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Enrol registers the staff card on the reader to staffID: the card's
// serial and public key, and its signature (after pin) over an enrolment
// challenge proving it holds the key. adminToken is an operator admin's
// or the staff's store admin's.
func (s *Station) Enrol(ctx context.Context, adminToken, staffID, pin string) (serial string, err error) {
	var ch challenge
	if _, err := s.API.call(ctx, "POST", "/v1/staff-cards/challenge", adminToken, nil, nil, &ch); err != nil {
		return "", err
	}
	serial, pub, err := s.Cards.StaffKey(ctx)
	if err != nil {
		return "", err
	}
	d := cardauth.Digest(cardauth.PurposeStaffEnrol, ch.Nonce)
	signedBy, sig, err := s.Cards.StaffSign(ctx, pin, d[:])
	if err != nil {
		return "", err
	}
	if signedBy != serial {
		return "", fmt.Errorf("%w: the card was exchanged during enrolment", ErrCardRemoved)
	}
	_, err = s.API.call(ctx, "POST", "/v1/staff-cards", adminToken, nil, map[string]any{
		"staff_id": staffID, "card_serial": serial, "public_key": pub, "challenge_id": ch.ChallengeID, "signature": sig}, nil)
	return serial, err
}

// Login is the staff login: a one-time challenge from Gantry, signed by the
// card after pin, sent with the face image; Gantry answers a token only
// after both factors.
type Login struct {
	Token   string `json:"token"`
	Role    string `json:"role"`
	Store   string `json:"store"`
	StaffID string `json:"staff_id"`
}

// Login logs the card's holder in.
func (s *Station) Login(ctx context.Context, pin string, faceImage []byte) (Login, error) {
	var ch challenge
	if _, err := s.API.call(ctx, "POST", "/v1/auth/staff/card/challenge", "", nil, nil, &ch); err != nil {
		return Login{}, err
	}
	d := cardauth.Digest(cardauth.PurposeStaffLogin, ch.Nonce)
	serial, sig, err := s.Cards.StaffSign(ctx, pin, d[:])
	if err != nil {
		return Login{}, err
	}
	var out Login
	_, err = s.API.call(ctx, "POST", "/v1/auth/staff/card/login", "", nil, map[string]any{
		"challenge_id": ch.ChallengeID, "card_serial": serial, "signature": sig, "face_image": faceImage}, &out)
	return out, err
}

// Written is the outcome of step 8.
type Written struct {
	CardSerial string
	Hash       string
	Version    int64
}

// WriteSetupCard is step 8: fetch the setup's signed record, write it to
// the setup card, read it back, and report serial and SHA-256 of what was
// read. A read-back that differs is ErrReadBack and nothing is reported.
// version is the setup's current version (If-Match).
func (s *Station) WriteSetupCard(ctx context.Context, token, setupID string, version int64) (Written, error) {
	var rec struct {
		Record []byte `json:"record"`
	}
	if _, err := s.API.call(ctx, "GET", "/v1/setups/"+setupID+"/card-record", token, nil, nil, &rec); err != nil {
		return Written{}, err
	}
	serial, back, err := s.Cards.WriteSetupRecord(ctx, rec.Record)
	if err != nil {
		return Written{}, err
	}
	if !bytes.Equal(back, rec.Record) {
		return Written{}, ErrReadBack
	}
	h := cardauth.Hash(back)
	v, err := s.API.call(ctx, "POST", "/v1/setups/"+setupID+"/card", token, ifMatch(version), map[string]any{
		"card_serial": serial, "read_back": back, "read_hash": h}, nil)
	return Written{CardSerial: serial, Hash: h, Version: v}, err
}

// Identity is the outcome of the My Number card check.
type Identity struct {
	Passed           bool   `json:"passed"`
	RevocationStatus string `json:"revocation_status"`
	Version          int64  `json:"version"`
}

// CheckIdentity is step 6 with a My Number card: a challenge bound to the
// setup, signed by the card's JPKI user-authentication key after the
// 4-digit pin, sent with the certificate read from the card.
func (s *Station) CheckIdentity(ctx context.Context, token, setupID string, version int64, pin string) (Identity, error) {
	var ch challenge
	if _, err := s.API.call(ctx, "POST", "/v1/setups/"+setupID+"/identity/jpki-challenge", token, nil, nil, &ch); err != nil {
		return Identity{}, err
	}
	d := cardauth.Digest(cardauth.PurposeJPKI, ch.Nonce)
	cert, sig, err := s.Cards.JPKIAuthenticate(ctx, pin, cardauth.DigestInfo(d))
	if err != nil {
		return Identity{}, err
	}
	var out Identity
	v, err := s.API.call(ctx, "POST", "/v1/setups/"+setupID+"/identity/jpki", token, ifMatch(version), map[string]any{
		"challenge_id": ch.ChallengeID, "certificate": cert, "signature": sig}, &out)
	out.Version = v
	return out, err
}

func ifMatch(v int64) map[string]string {
	if v <= 0 {
		return nil
	}
	return map[string]string{"If-Match": strconv.Quote(strconv.FormatInt(v, 10))}
}
