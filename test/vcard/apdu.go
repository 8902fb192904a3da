package vcard

import "encoding/binary"

// Status words the cards answer (ISO/IEC 7816-4).
var (
	swOK             = []byte{0x90, 0x00}
	swWrongLength    = []byte{0x67, 0x00}
	swSecurity       = []byte{0x69, 0x82} // security status not satisfied (PIN not verified, write-protected)
	swPINBlocked     = []byte{0x69, 0x83} // authentication method blocked
	swConditions     = []byte{0x69, 0x85} // conditions of use not satisfied
	swFileNotFound   = []byte{0x6A, 0x82}
	swNotEnoughMem   = []byte{0x6A, 0x84}
	swWrongP1P2      = []byte{0x6B, 0x00}
	swINSNotSupport  = []byte{0x6D, 0x00}
	swCLANotSupport  = []byte{0x6E, 0x00}
	swWrongData      = []byte{0x6A, 0x80}
	swMemoryFailure  = []byte{0x65, 0x81}
	swEndOfFile      = []byte{0x62, 0x82}
	swOffsetTooLarge = []byte{0x6B, 0x00}
)

func pinLeft(n int) []byte { return []byte{0x63, 0xC0 | byte(n&0x0F)} }

// command is a parsed short APDU: CLA INS P1 P2 [Lc data] [Le].
type command struct {
	cla, ins, p1, p2 byte
	data             []byte
	le               int // -1: absent; 0 in the APDU means 256
	ok               bool
}

func parse(a []byte) command {
	if len(a) < 4 {
		return command{}
	}
	c := command{cla: a[0], ins: a[1], p1: a[2], p2: a[3], le: -1, ok: true}
	rest := a[4:]
	switch {
	case len(rest) == 0:
	case len(rest) == 1:
		c.le = int(rest[0])
		if c.le == 0 {
			c.le = 256
		}
	default:
		lc := int(rest[0])
		if lc == 0 || len(rest) < 1+lc || len(rest) > 2+lc {
			return command{}
		}
		c.data = rest[1 : 1+lc]
		if len(rest) == 2+lc {
			c.le = int(rest[1+lc])
			if c.le == 0 {
				c.le = 256
			}
		}
	}
	return c
}

func (c command) offset() int { return int(binary.BigEndian.Uint16([]byte{c.p1 & 0x7F, c.p2})) }

func withSW(data []byte, sw []byte) []byte {
	out := make([]byte, 0, len(data)+2)
	return append(append(out, data...), sw...)
}
