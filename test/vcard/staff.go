package vcard

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"sync"
)

// StaffAID is the application identifier of Gantry's staff login applet
// (a proprietary AID: RID F0 "GNTRY", application 01).
var StaffAID = []byte{0xF0, 0x47, 0x4E, 0x54, 0x52, 0x59, 0x01}

// ATR of the virtual cards: T=1, historical bytes "GANTRY".
var atr = []byte{0x3B, 0x86, 0x80, 0x01, 'G', 'A', 'N', 'T', 'R', 'Y', 0x00}

// StaffCard is a staff login card: an ECDSA P-256 key generated on the card
// (only the public key ever leaves it), a PIN with 3 tries, and a serial.
// Safe for concurrent use by the test and the reader.
type StaffCard struct {
	mu       sync.Mutex
	serial   []byte
	key      *ecdsa.PrivateKey
	pin      []byte
	left     int
	selected bool
	verified bool
	signs    int
}

// NewStaffCard makes a card with a fresh key and the given PIN.
func NewStaffCard(serial []byte, pin string) *StaffCard {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &StaffCard{serial: serial, key: k, pin: []byte(pin), left: 3}
}

// TriesLeft is the PIN counter (0: locked).
func (c *StaffCard) TriesLeft() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left
}

// Signatures counts the signatures the card made.
func (c *StaffCard) Signatures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signs
}

func (c *StaffCard) ATR() []byte { return atr }

func (c *StaffCard) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.selected, c.verified = false, false
}

// Process implements: SELECT by AID (00 A4 04 0C), GET DATA serial (00 CA
// 01 01) and public key (00 CA 01 02), VERIFY (00 20 00 81), PERFORM
// SECURITY OPERATION: COMPUTE DIGITAL SIGNATURE over a 32-byte hash
// (00 2A 9E 9A), answering an ASN.1 DER ECDSA signature.
func (c *StaffCard) Process(a []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := parse(a)
	if !cmd.ok {
		return swWrongLength
	}
	if cmd.cla != 0x00 {
		return swCLANotSupport
	}
	if cmd.ins == 0xA4 {
		if cmd.p1 == 0x04 && bytes.Equal(cmd.data, StaffAID) {
			c.selected, c.verified = true, false
			return swOK
		}
		c.selected = false
		return swFileNotFound
	}
	if !c.selected {
		return swConditions
	}
	switch cmd.ins {
	case 0xCA:
		switch {
		case cmd.p1 == 0x01 && cmd.p2 == 0x01:
			return withSW(c.serial, swOK)
		case cmd.p1 == 0x01 && cmd.p2 == 0x02:
			return withSW(elliptic.Marshal(elliptic.P256(), c.key.X, c.key.Y), swOK) //nolint:staticcheck // uncompressed point, as cards send it
		}
		return swWrongP1P2
	case 0x20:
		if cmd.p1 != 0x00 || cmd.p2 != 0x81 {
			return swWrongP1P2
		}
		if c.left == 0 {
			return swPINBlocked
		}
		if len(cmd.data) == 0 {
			if c.verified {
				return swOK
			}
			return pinLeft(c.left)
		}
		if !bytes.Equal(cmd.data, c.pin) {
			c.left--
			c.verified = false
			if c.left == 0 {
				return swPINBlocked
			}
			return pinLeft(c.left)
		}
		c.left, c.verified = 3, true
		return swOK
	case 0x2A:
		if cmd.p1 != 0x9E || cmd.p2 != 0x9A {
			return swWrongP1P2
		}
		if !c.verified {
			return swSecurity
		}
		if len(cmd.data) != 32 {
			return swWrongData
		}
		sig, err := ecdsa.SignASN1(rand.Reader, c.key, cmd.data)
		if err != nil {
			return swMemoryFailure
		}
		c.verified = false // one signature per PIN entry
		c.signs++
		return withSW(sig, swOK)
	}
	return swINSNotSupport
}
