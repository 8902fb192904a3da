package scard

import (
	"context"
	"fmt"

	"github.com/gantry-etc/gantry/station"
)

// The public JPKI application of the My Number card (公的個人認証 AP).
var JPKIAID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// JPKI elementary files of the user-authentication function (利用者証明用).
const (
	JPKIAuthCertEF = 0x000A // 利用者証明用電子証明書
	JPKIAuthKeyEF  = 0x0017 // its private key
	JPKIAuthPINEF  = 0x0018 // its PIN (4 digits)
)

// JPKIAuthenticate implements station.Cards: SELECT the JPKI AP, SELECT
// and READ BINARY the certificate (its length from the DER header), SELECT
// the PIN EF and VERIFY, SELECT the key EF and COMPUTE DIGITAL SIGNATURE
// (80 2A 00 80) over the DigestInfo.
func (r *Reader) JPKIAuthenticate(ctx context.Context, pin string, digestInfo []byte) (cert, sig []byte, err error) {
	if len(pin) != 4 {
		return nil, nil, station.ErrPINFormat
	}
	err = r.session(ctx, func(c *conn) error {
		if err := c.selectAID(JPKIAID); err != nil {
			return err
		}
		if err := c.selectEF(JPKIAuthCertEF); err != nil {
			return err
		}
		head, err := c.readBinary(0, 4, 4)
		if err != nil {
			return err
		}
		if len(head) != 4 || head[0] != 0x30 || head[1] != 0x82 {
			return fmt.Errorf("%w: the certificate file does not hold a DER certificate", station.ErrWrongCard)
		}
		n := 4 + int(head[2])<<8 | int(head[3])
		if cert, err = c.readBinary(0, n, 255); err != nil {
			return err
		}
		if err := c.selectEF(JPKIAuthPINEF); err != nil {
			return err
		}
		if err := c.verify(0x80, pin); err != nil {
			return err
		}
		if err := c.selectEF(JPKIAuthKeyEF); err != nil {
			return err
		}
		sig, err = c.expect("COMPUTE DIGITAL SIGNATURE", append(append([]byte{0x80, 0x2A, 0x00, 0x80, byte(len(digestInfo))}, digestInfo...), 0x00))
		return err
	})
	return cert, sig, err
}
