package vcard

import (
	"bytes"
	"sync"
)

// SetupAID is the application identifier of Gantry's setup card applet.
var SetupAID = []byte{0xF0, 0x47, 0x4E, 0x54, 0x52, 0x59, 0x02}

// SetupFID is the transparent elementary file holding the setup record.
var SetupFID = []byte{0x01, 0x01}

// SetupCard is a writable setup card: one transparent EF of Size bytes in
// an applet selected by SetupAID, written with UPDATE BINARY of at most
// MaxChunk bytes per command. The fault fields script failures.
type SetupCard struct {
	mu       sync.Mutex
	serial   []byte
	file     []byte
	maxChunk int
	app, ef  bool
	updates  int
	pull     bool

	// Faults (set before or between uses).
	WriteProtected     bool // UPDATE BINARY answers 69 82
	RemoveAfterUpdates int  // >0: the card leaves the reader right after that many UPDATE BINARY (counted over the card's life)
	CorruptReads       bool // READ BINARY flips one bit of what is stored
}

// NewSetupCard makes an empty card with a file of size bytes.
func NewSetupCard(serial []byte, size, maxChunk int) *SetupCard {
	return &SetupCard{serial: serial, file: make([]byte, size), maxChunk: maxChunk}
}

// Contents returns a copy of the file.
func (c *SetupCard) Contents() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.file)
}

// Updates counts UPDATE BINARY commands the card accepted.
func (c *SetupCard) Updates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.updates
}

// Configure runs fn with the card locked (to change the faults safely).
func (c *SetupCard) Configure(fn func(c *SetupCard)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c)
}

// Pulled reports (once) that the card leaves the reader now.
func (c *SetupCard) Pulled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pull
	c.pull = false
	return p
}

func (c *SetupCard) ATR() []byte { return atr }

func (c *SetupCard) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.app, c.ef = false, false
}

// fcp is the file control parameters of the EF: 62 L [80 02 size] [82 01 01
// transparent] [83 02 FID].
func (c *SetupCard) fcp() []byte {
	n := len(c.file)
	return []byte{0x62, 0x0B, 0x80, 0x02, byte(n >> 8), byte(n), 0x82, 0x01, 0x01, 0x83, 0x02, SetupFID[0], SetupFID[1]}
}

// Process implements SELECT (by AID 00 A4 04 0C; EF by FID 00 A4 02 04
// answering the FCP, or 00 A4 02 0C), GET DATA (00 CA 01 01 serial, 00 CA
// 01 03 the largest UPDATE BINARY data length), UPDATE BINARY (00 D6) and
// READ BINARY (00 B0).
func (c *SetupCard) Process(a []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := parse(a)
	if !cmd.ok {
		return swWrongLength
	}
	if cmd.cla != 0x00 {
		return swCLANotSupport
	}
	switch cmd.ins {
	case 0xA4:
		switch {
		case cmd.p1 == 0x04:
			c.app, c.ef = bytes.Equal(cmd.data, SetupAID), false
			if !c.app {
				return swFileNotFound
			}
			return swOK
		case cmd.p1 == 0x02 && c.app && bytes.Equal(cmd.data, SetupFID):
			c.ef = true
			if cmd.p2 == 0x04 {
				return withSW(c.fcp(), swOK)
			}
			return swOK
		}
		return swFileNotFound
	case 0xCA:
		if !c.app {
			return swConditions
		}
		switch {
		case cmd.p1 == 0x01 && cmd.p2 == 0x01:
			return withSW(c.serial, swOK)
		case cmd.p1 == 0x01 && cmd.p2 == 0x03:
			return withSW([]byte{byte(c.maxChunk)}, swOK)
		}
		return swWrongP1P2
	case 0xD6:
		if !c.ef {
			return swConditions
		}
		if c.WriteProtected {
			return swSecurity
		}
		if len(cmd.data) > c.maxChunk {
			return swWrongLength
		}
		off := cmd.offset()
		if off+len(cmd.data) > len(c.file) {
			return swNotEnoughMem
		}
		copy(c.file[off:], cmd.data)
		c.updates++
		if c.RemoveAfterUpdates > 0 && c.updates >= c.RemoveAfterUpdates {
			c.RemoveAfterUpdates = 0
			c.pull = true // the card leaves the reader after this answer
		}
		return swOK
	case 0xB0:
		if !c.ef {
			return swConditions
		}
		off := cmd.offset()
		if off > len(c.file) {
			return swOffsetTooLarge
		}
		le := cmd.le
		if le < 0 {
			le = 256
		}
		end := min(off+le, len(c.file))
		out := bytes.Clone(c.file[off:end])
		if c.CorruptReads && len(out) > 0 {
			out[len(out)-1] ^= 0x01
		}
		if end-off < le {
			return withSW(out, swEndOfFile)
		}
		return withSW(out, swOK)
	}
	return swINSNotSupport
}
