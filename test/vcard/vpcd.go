// Package vcard holds virtual smart cards for tests: Go programs that
// connect to the vpcd virtual reader driver of a real pcscd (see
// test/pcsctest) and answer APDUs, so the code under test goes through
// libpcsclite and the PC/SC daemon exactly as with a USB reader. The cards
// are a staff login card (ECDSA P-256 key, PIN counter), a writable setup
// card (a transparent file with size limits) and a JPKI-style card (the
// user-authentication certificate of a test CA, RSA signing after a PIN).
// Faults are scriptable on each card.
package vcard

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Card answers APDUs. Process returns the response (data and status word);
// nil means the card was pulled off the reader (the connection closes).
// Reset is called when the reader powers the card up or resets it: session
// state such as a verified PIN is forgotten; persistent state stays.
type Card interface {
	ATR() []byte
	Reset()
	Process(apdu []byte) []byte
}

// puller is a card that can script being taken off the reader: after an
// answer, Pulled reports whether the card leaves now.
type puller interface{ Pulled() bool }

// Inserted is a card lying on the virtual reader.
type Inserted struct {
	conn net.Conn
	done chan struct{}
	once sync.Once
	err  error
}

// Insert connects card to the vpcd reader at addr (the card is "placed on
// the reader"). It retries the connection for up to 5s, as vpcd may still be
// starting. Remove takes it off again.
func Insert(addr string, card Card) (*Inserted, error) {
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		conn, err = net.DialTimeout("tcp", addr, time.Second)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	in := &Inserted{conn: conn, done: make(chan struct{})}
	go in.serve(card)
	return in, nil
}

// Remove takes the card off the reader and waits until its loop ended.
func (in *Inserted) Remove() {
	in.once.Do(func() { in.conn.Close() })
	<-in.done
}

// Gone is closed when the card left the reader (Remove, or the card pulled
// itself off: a scripted fault).
func (in *Inserted) Gone() <-chan struct{} { return in.done }

func (in *Inserted) serve(card Card) {
	defer close(in.done)
	defer in.once.Do(func() { in.conn.Close() })
	for {
		msg, err := readMsg(in.conn)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				in.err = err
			}
			return
		}
		var out []byte
		if len(msg) == 1 {
			switch msg[0] {
			case 0: // power off
				continue
			case 1, 2: // power on, reset
				card.Reset()
				continue
			case 4: // ATR request
				out = card.ATR()
			default:
				continue
			}
		} else {
			out = card.Process(msg)
			if out == nil {
				return // pulled off mid-command: no answer reaches the reader
			}
		}
		if err := writeMsg(in.conn, out); err != nil {
			return
		}
		if p, ok := card.(puller); ok && p.Pulled() {
			return // taken off the reader right after answering
		}
	}
}

// vpcd framing: 2-byte big-endian length, then the bytes.
func readMsg(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeMsg(w io.Writer, b []byte) error {
	out := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(out, uint16(len(b)))
	copy(out[2:], b)
	_, err := w.Write(out)
	return err
}
