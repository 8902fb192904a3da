package scard

import (
	"context"
	"encoding/hex"
	"strings"
)

// StaffAID is Gantry's staff login applet (proprietary RID F0 "GNTRY", 01).
var StaffAID = []byte{0xF0, 0x47, 0x4E, 0x54, 0x52, 0x59, 0x01}

// StaffPINRef is the PIN reference of the staff applet (VERIFY P2).
const StaffPINRef = 0x81

func (c *conn) serial() (string, error) {
	b, err := c.expect("GET DATA (serial)", []byte{0x00, 0xCA, 0x01, 0x01, 0x00})
	if err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(b)), nil
}

// StaffKey implements station.Cards.
func (r *Reader) StaffKey(ctx context.Context) (serial string, pub []byte, err error) {
	err = r.session(ctx, func(c *conn) error {
		if err := c.selectAID(StaffAID); err != nil {
			return err
		}
		if serial, err = c.serial(); err != nil {
			return err
		}
		pub, err = c.expect("GET DATA (public key)", []byte{0x00, 0xCA, 0x01, 0x02, 0x00})
		return err
	})
	return serial, pub, err
}

// StaffSign implements station.Cards: SELECT, GET DATA serial, VERIFY,
// PSO: COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A) over the 32-byte digest.
func (r *Reader) StaffSign(ctx context.Context, pin string, digest []byte) (serial string, sig []byte, err error) {
	err = r.session(ctx, func(c *conn) error {
		if err := c.selectAID(StaffAID); err != nil {
			return err
		}
		if serial, err = c.serial(); err != nil {
			return err
		}
		if err := c.verify(StaffPINRef, pin); err != nil {
			return err
		}
		sig, err = c.expect("COMPUTE DIGITAL SIGNATURE", append(append([]byte{0x00, 0x2A, 0x9E, 0x9A, byte(len(digest))}, digest...), 0x00))
		return err
	})
	return serial, sig, err
}
