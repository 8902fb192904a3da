package scard

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/gantry-etc/gantry/station"
)

// SetupAID is Gantry's setup card applet (proprietary RID F0 "GNTRY", 02).
var SetupAID = []byte{0xF0, 0x47, 0x4E, 0x54, 0x52, 0x59, 0x02}

// SetupFID is the transparent EF holding the setup record.
const SetupFID = 0x0101

// The record on the card: "GSC1", a 2-byte big-endian length, the record.
// The header is cleared first and written last, so a write that is cut off
// leaves no valid record and a retry starts over.
var setupMagic = []byte("GSC1")

const headerLen = 6

// WriteSetupRecord implements station.Cards.
func (r *Reader) WriteSetupRecord(ctx context.Context, record []byte) (serial string, readBack []byte, err error) {
	if len(record) > 0xFFFF {
		return "", nil, fmt.Errorf("%w: the record is %d bytes", station.ErrCardFull, len(record))
	}
	err = r.session(ctx, func(c *conn) error {
		if err := c.selectAID(SetupAID); err != nil {
			return err
		}
		if serial, err = c.serial(); err != nil {
			return err
		}
		chunk := 128
		if b, err := c.expect("GET DATA (largest data length)", []byte{0x00, 0xCA, 0x01, 0x03, 0x00}); err == nil && len(b) == 1 && b[0] > 0 {
			chunk = int(b[0])
		}
		fcp, sw, err := c.transmit([]byte{0x00, 0xA4, 0x02, 0x04, 0x02, SetupFID >> 8, SetupFID & 0xFF, 0x00})
		if err != nil {
			return err
		}
		if sw == 0x6A82 {
			return station.ErrWrongCard
		}
		if sw != 0x9000 {
			return &station.CardError{Op: "SELECT file", SW: sw}
		}
		size, ok := fileSize(fcp)
		if !ok {
			return fmt.Errorf("%w: the card does not state the size of its record file", station.ErrWrongCard)
		}
		if need := headerLen + len(record); need > size {
			return fmt.Errorf("%w (the record needs %d bytes, the card holds %d)", station.ErrCardFull, need, size)
		}
		if err := c.update(0, make([]byte, headerLen)); err != nil {
			return err
		}
		for off := 0; off < len(record); off += chunk {
			if err := c.update(headerLen+off, record[off:min(off+chunk, len(record))]); err != nil {
				return err
			}
		}
		hdr := binary.BigEndian.AppendUint16(bytes.Clone(setupMagic), uint16(len(record)))
		if err := c.update(0, hdr); err != nil {
			return err
		}
		got, err := c.readBinary(0, headerLen, chunk)
		if err != nil {
			return err
		}
		if len(got) != headerLen || !bytes.Equal(got[:4], setupMagic) {
			return station.ErrReadBack
		}
		readBack, err = c.readBinary(headerLen, int(binary.BigEndian.Uint16(got[4:])), chunk)
		return err
	})
	return serial, readBack, err
}

// update writes data at off of the selected EF (UPDATE BINARY).
func (c *conn) update(off int, data []byte) error {
	_, sw, err := c.transmit(append([]byte{0x00, 0xD6, byte(off >> 8), byte(off), byte(len(data))}, data...))
	switch {
	case err != nil:
		return err
	case sw == 0x9000:
		return nil
	case sw == 0x6982 || sw == 0x6581:
		return station.ErrWriteProtected
	case sw == 0x6A84 || sw == 0x6B00:
		return station.ErrCardFull
	}
	return &station.CardError{Op: "UPDATE BINARY", SW: sw}
}

// fileSize reads tag 80 (or 81) of an FCP template (62).
func fileSize(fcp []byte) (int, bool) {
	if len(fcp) < 2 || fcp[0] != 0x62 {
		return 0, false
	}
	b := fcp[2:]
	for len(b) >= 2 {
		tag, l := b[0], int(b[1])
		if len(b) < 2+l {
			return 0, false
		}
		if (tag == 0x80 || tag == 0x81) && l >= 1 && l <= 4 {
			n := 0
			for _, x := range b[2 : 2+l] {
				n = n<<8 | int(x)
			}
			return n, true
		}
		b = b[2+l:]
	}
	return 0, false
}
