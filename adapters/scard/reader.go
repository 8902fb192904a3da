// Package scard implements the station's Cards port (station.Cards) over
// PC/SC with github.com/ebfe/scard (libpcsclite, cgo): the APDUs of
// Gantry's staff and setup cards and of the JPKI application of the My
// Number card. docs/cards.md lists every APDU sent.
package scard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ebfe/scard"

	"github.com/gantry-etc/gantry/station"
)

// Reader is one PC/SC reader. Name picks it (empty: the first reader
// pcscd lists); Wait is how long an operation waits for a card to be
// placed (0: the card must already lie on the reader).
type Reader struct {
	Name string
	Wait time.Duration
}

var _ station.Cards = (*Reader)(nil)

// session connects exclusively to the card on the reader, runs fn and
// disconnects resetting the card (a verified PIN does not outlive it).
func (r *Reader) session(ctx context.Context, fn func(c *conn) error) error {
	sc, err := scard.EstablishContext()
	if err != nil {
		return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
	}
	defer sc.Release()
	readers, err := sc.ListReaders()
	if err != nil || len(readers) == 0 {
		if err == nil || errors.Is(err, scard.ErrNoReadersAvailable) {
			return station.ErrNoReader
		}
		return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
	}
	name := r.Name
	if name == "" {
		name = readers[0]
	} else if !slices.Contains(readers, name) {
		return fmt.Errorf("%w: reader %q is not connected (connected: %q)", station.ErrNoReader, name, readers)
	}
	if err := r.waitForCard(ctx, sc, name); err != nil {
		return err
	}
	card, err := sc.Connect(name, scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		return cardErr(err)
	}
	err = fn(&conn{card: card})
	// Reset the card so a verified PIN does not outlive the session; a card
	// that already left is not reset (that only fails).
	disp := scard.ResetCard
	if errors.Is(err, station.ErrCardRemoved) {
		disp = scard.LeaveCard
	}
	_ = card.Disconnect(disp)
	return err
}

func (r *Reader) waitForCard(ctx context.Context, sc *scard.Context, name string) error {
	deadline := time.Now().Add(r.Wait)
	rs := []scard.ReaderState{{Reader: name, CurrentState: scard.StateUnaware}}
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		err := sc.GetStatusChange(rs, min(left, 250*time.Millisecond))
		switch {
		case err == nil:
			if rs[0].EventState&scard.StatePresent != 0 {
				return nil
			}
			rs[0].CurrentState = rs[0].EventState &^ scard.StateChanged
		case errors.Is(err, scard.ErrTimeout):
		default:
			return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return station.ErrNoCard
		}
	}
}

// cardErr maps PC/SC errors of a card operation to the port's errors.
func cardErr(err error) error {
	var e scard.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e {
	case scard.ErrNoSmartcard:
		return station.ErrNoCard
	case scard.ErrRemovedCard, scard.ErrResetCard, scard.ErrCommError, scard.ErrNotTransacted,
		scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrCommDataLost:
		return fmt.Errorf("%w (PC/SC: %v)", station.ErrCardRemoved, err)
	case scard.ErrReaderUnavailable, scard.ErrUnknownReader, scard.ErrNoReadersAvailable, scard.ErrNoService:
		return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
	}
	return err
}

// conn sends APDUs to a connected card.
type conn struct{ card *scard.Card }

// transmit sends apdu and answers the data and status word; it follows
// 61xx (GET RESPONSE) and 6Cxx (resend with the right Le).
func (c *conn) transmit(apdu []byte) ([]byte, uint16, error) {
	var data []byte
	for range 16 {
		res, err := c.card.Transmit(apdu)
		if err != nil {
			return nil, 0, cardErr(err)
		}
		if len(res) < 2 {
			return nil, 0, fmt.Errorf("%w: the card answered %d bytes, not even a status word", station.ErrCardRemoved, len(res))
		}
		sw := uint16(res[len(res)-2])<<8 | uint16(res[len(res)-1])
		data = append(data, res[:len(res)-2]...)
		switch sw >> 8 {
		case 0x61:
			apdu = []byte{0x00, 0xC0, 0x00, 0x00, byte(sw)}
			continue
		case 0x6C:
			apdu = append(slices.Clone(apdu[:len(apdu)-1]), byte(sw))
			continue
		}
		return data, sw, nil
	}
	return nil, 0, errors.New("the card kept asking for more GET RESPONSE")
}

// expect sends apdu and answers the data if the status word is 9000.
func (c *conn) expect(op string, apdu []byte) ([]byte, error) {
	data, sw, err := c.transmit(apdu)
	if err != nil {
		return nil, err
	}
	if sw != 0x9000 {
		return nil, &station.CardError{Op: op, SW: sw}
	}
	return data, nil
}

// selectAID selects an application; "not found" means another kind of card.
func (c *conn) selectAID(aid []byte) error {
	_, sw, err := c.transmit(append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(aid))}, aid...))
	switch {
	case err != nil:
		return err
	case sw == 0x6A82 || sw == 0x6A86 || sw == 0x6D00 || sw == 0x6E00:
		return station.ErrWrongCard
	case sw != 0x9000:
		return &station.CardError{Op: "SELECT application", SW: sw}
	}
	return nil
}

// selectEF selects an elementary file by its two-byte ID (no FCP).
func (c *conn) selectEF(fid uint16) error {
	_, sw, err := c.transmit([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, byte(fid >> 8), byte(fid)})
	switch {
	case err != nil:
		return err
	case sw == 0x6A82:
		return station.ErrWrongCard
	case sw != 0x9000:
		return &station.CardError{Op: "SELECT file", SW: sw}
	}
	return nil
}

// verify presents a PIN with reference ref (VERIFY, 00 20 00 ref).
func (c *conn) verify(ref byte, pin string) error {
	_, sw, err := c.transmit(append([]byte{0x00, 0x20, 0x00, ref, byte(len(pin))}, pin...))
	switch {
	case err != nil:
		return err
	case sw == 0x9000:
		return nil
	case sw == 0x6983 || sw == 0x63C0:
		return station.ErrCardLocked
	case sw&0xFFF0 == 0x63C0:
		return &station.WrongPINError{Left: int(sw & 0x0F)}
	}
	return &station.CardError{Op: "VERIFY", SW: sw}
}

// readBinary reads n bytes from offset off of the selected EF in chunks
// of at most chunk bytes.
func (c *conn) readBinary(off, n, chunk int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		le := min(chunk, n-len(out))
		p := off + len(out)
		data, sw, err := c.transmit([]byte{0x00, 0xB0, byte(p >> 8), byte(p), byte(le)})
		if err != nil {
			return nil, err
		}
		if sw != 0x9000 && sw != 0x6282 {
			return nil, &station.CardError{Op: "READ BINARY", SW: sw}
		}
		if len(data) == 0 {
			return out, nil
		}
		out = append(out, data...)
	}
	return out[:n], nil
}
