// Package station is the store-side program (`gantry station`): it runs on
// the store PC or tablet that has the card reader, talks to the cards
// through the Cards port (adapters/scard implements it over PC/SC) and to
// the Gantry API over HTTP. The server never touches a reader.
package station

import (
	"context"
	"errors"
	"fmt"
)

// Cards is the port to the card reader. Each call is one visit to the card:
// it waits (up to the adapter's configured time) for a card on the reader,
// connects exclusively, runs its APDUs and disconnects resetting the card,
// so a verified PIN never outlives the call. Errors are the sentinels and
// types below, so a different reader stack can replace the adapter.
type Cards interface {
	// StaffKey reads a staff card's serial and ECDSA P-256 public key
	// (uncompressed point) for enrolment.
	StaffKey(ctx context.Context) (serial string, publicKey []byte, err error)
	// StaffSign verifies pin on the staff card and has it sign digest (32
	// bytes, SHA-256); the signature is ASN.1 DER ECDSA.
	StaffSign(ctx context.Context, pin string, digest []byte) (serial string, signature []byte, err error)
	// WriteSetupRecord writes record to a setup card and reads it back:
	// it answers the card serial and the bytes read back (not the bytes
	// sent). A write that is cut off leaves no valid record on the card; a
	// retry writes from the start.
	WriteSetupRecord(ctx context.Context, record []byte) (serial string, readBack []byte, err error)
	// JPKIAuthenticate reads the JPKI user-authentication certificate of a
	// My Number card, verifies pin (4 digits) and has the card sign
	// digestInfo (a DER DigestInfo of SHA-256, PKCS#1 v1.5).
	JPKIAuthenticate(ctx context.Context, pin string, digestInfo []byte) (certificate, signature []byte, err error)
}

// Errors of the Cards port. Each message says what the person at the
// reader can do.
var (
	ErrNoReader       = errors.New("no card reader is connected: plug in the reader (and check that pcscd runs)")
	ErrNoCard         = errors.New("no card on the reader: place the card on the reader and try again")
	ErrCardRemoved    = errors.New("the card left the reader during the operation: place it again and retry (a write starts over)")
	ErrWrongCard      = errors.New("this is not the expected kind of card: check which card is on the reader")
	ErrCardLocked     = errors.New("the card is locked after 3 wrong PINs: it must be unlocked or replaced by its issuer")
	ErrWriteProtected = errors.New("the card is write-protected: use another setup card")
	ErrCardFull       = errors.New("the card has not enough room for the setup record: use another setup card")
	ErrPINFormat      = errors.New("the My Number card's user-authentication PIN is 4 digits")
	ErrReadBack       = errors.New("the record read back from the card differs from what was written: nothing was recorded; retry with the card, or use another card")
)

// WrongPINError is a wrong PIN; Left tries remain before the card locks.
type WrongPINError struct{ Left int }

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("wrong PIN: %d tries left before the card locks", e.Left)
}

// CardError is a status word the station did not expect.
type CardError struct {
	Op string
	SW uint16
}

func (e *CardError) Error() string {
	return fmt.Sprintf("the card refused %s (status %04X)", e.Op, e.SW)
}
