package vcard

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// JPKIAID is the public JPKI application (公的個人認証 AP) of the My
// Number card.
var JPKIAID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// JPKI user-authentication files: certificate, private key, PIN.
const (
	jpkiCertEF = 0x000A
	jpkiKeyEF  = 0x0017
	jpkiPINEF  = 0x0018
)

// JPKICard is a My Number card's JPKI AP reduced to the user
// authentication function: a DER certificate in EF 000A, its RSA key in EF
// 0017 (used by COMPUTE DIGITAL SIGNATURE 80 2A 00 80 over a DigestInfo),
// and the 4-digit PIN of EF 0018 with 3 tries.
type JPKICard struct {
	mu       sync.Mutex
	cert     []byte
	key      *rsa.PrivateKey
	pin      []byte
	left     int
	app      bool
	ef       uint16
	verified bool
}

// NewJPKICard makes a card holding cert (DER) and its key.
func NewJPKICard(cert []byte, key *rsa.PrivateKey, pin string) *JPKICard {
	return &JPKICard{cert: cert, key: key, pin: []byte(pin), left: 3}
}

// TriesLeft is the PIN counter (0: locked).
func (c *JPKICard) TriesLeft() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left
}

func (c *JPKICard) ATR() []byte { return atr }

func (c *JPKICard) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.app, c.ef, c.verified = false, 0, false
}

// Process implements SELECT (AP by AID, EF by FID with P2 0C), READ BINARY
// of the certificate, VERIFY (00 20 00 80) on the PIN EF, and COMPUTE
// DIGITAL SIGNATURE (80 2A 00 80) with the key EF selected.
func (c *JPKICard) Process(a []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := parse(a)
	if !cmd.ok {
		return swWrongLength
	}
	switch {
	case cmd.cla == 0x00 && cmd.ins == 0xA4 && cmd.p1 == 0x04:
		c.app, c.ef = bytes.Equal(cmd.data, JPKIAID), 0
		if !c.app {
			return swFileNotFound
		}
		return swOK
	case cmd.cla == 0x00 && cmd.ins == 0xA4 && cmd.p1 == 0x02:
		if !c.app || len(cmd.data) != 2 {
			return swFileNotFound
		}
		fid := uint16(cmd.data[0])<<8 | uint16(cmd.data[1])
		switch fid {
		case jpkiCertEF, jpkiKeyEF, jpkiPINEF:
			c.ef = fid
			return swOK
		}
		return swFileNotFound
	case cmd.cla == 0x00 && cmd.ins == 0xB0:
		if c.ef != jpkiCertEF {
			return swConditions
		}
		off := cmd.offset()
		if off > len(c.cert) {
			return swOffsetTooLarge
		}
		le := cmd.le
		if le < 0 {
			le = 256
		}
		end := min(off+le, len(c.cert))
		if end-off < le {
			return withSW(c.cert[off:end], swEndOfFile)
		}
		return withSW(c.cert[off:end], swOK)
	case cmd.cla == 0x00 && cmd.ins == 0x20:
		if c.ef != jpkiPINEF || cmd.p2 != 0x80 {
			return swConditions
		}
		if c.left == 0 {
			return swPINBlocked
		}
		if len(cmd.data) == 0 {
			return pinLeft(c.left)
		}
		if !bytes.Equal(cmd.data, c.pin) {
			c.left--
			if c.left == 0 {
				return swPINBlocked
			}
			return pinLeft(c.left)
		}
		c.left, c.verified = 3, true
		return swOK
	case cmd.cla == 0x80 && cmd.ins == 0x2A && cmd.p1 == 0x00 && cmd.p2 == 0x80:
		if c.ef != jpkiKeyEF || !c.verified {
			return swSecurity
		}
		sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.Hash(0), cmd.data)
		if err != nil {
			return swWrongData
		}
		return withSW(sig, swOK)
	}
	if cmd.cla != 0x00 && cmd.cla != 0x80 {
		return swCLANotSupport
	}
	return swINSNotSupport
}
