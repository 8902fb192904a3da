package pcsctest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/gantry-etc/gantry/test/vcard"
)

// Insert places card on the first vpcd reader and waits until pcscd sees
// it (so the code under test never races the daemon's polling). The card
// is taken off again (and the reader seen empty) when the test ends.
func (d *Daemon) Insert(t testing.TB, card vcard.Card) *vcard.Inserted {
	t.Helper()
	if err := WaitState(false); err != nil {
		t.Fatalf("pcsctest: before inserting: %v\n%s", err, tail(d.Log()))
	}
	in, err := vcard.Insert(Addr, card)
	if err != nil {
		t.Fatalf("pcsctest: connecting the virtual card to vpcd at %s: %v", Addr, err)
	}
	t.Cleanup(func() { d.Remove(t, in) })
	if err := WaitState(true); err != nil {
		t.Fatalf("pcsctest: %v\n%s", err, tail(filterLog(d.Log())))
	}
	return in
}

// Remove takes the card off and waits until pcscd sees the reader empty.
func (d *Daemon) Remove(t testing.TB, in *vcard.Inserted) {
	t.Helper()
	in.Remove()
	if err := WaitState(false); err != nil {
		t.Errorf("pcsctest: %v\n%s", err, tail(d.Log()))
	}
}

// tail is the end of pcscd's log, for failure messages.
func tail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return "pcscd log (end):\n" + strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// WaitState waits up to 10s until pcscd reports a card on the first vpcd
// reader (present) or none.
func WaitState(present bool) error {
	ctx, err := scard.EstablishContext()
	if err != nil {
		return fmt.Errorf("PC/SC context: %w", err)
	}
	defer ctx.Release()
	rs := []scard.ReaderState{{Reader: Reader, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		err := ctx.GetStatusChange(rs, 200*time.Millisecond)
		if err != nil && !errors.Is(err, scard.ErrTimeout) {
			return fmt.Errorf("PC/SC status of %s: %w", Reader, err)
		}
		if err == nil {
			got := rs[0].EventState&scard.StatePresent != 0
			if got == present && rs[0].EventState&scard.StateEmpty == 0 == present {
				return nil
			}
			rs[0].CurrentState = rs[0].EventState &^ scard.StateChanged
		}
	}
	return fmt.Errorf("the reader %s did not become %s within 10s", Reader, map[bool]string{true: "present", false: "empty"}[present])
}

// waitReader waits until pcscd serves clients and lists the vpcd reader.
func waitReader(d *Daemon) error {
	deadline := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("pcscd exited; its output:\n%s", d.Log())
		default:
		}
		ctx, err := scard.EstablishContext()
		if err == nil {
			readers, err2 := ctx.ListReaders()
			ctx.Release()
			for _, r := range readers {
				if r == Reader {
					return nil
				}
			}
			err = fmt.Errorf("readers %q (%v), want %q", readers, err2, Reader)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pcscd does not list %s within 10s: %v; its output:\n%s", Reader, last, d.Log())
}

func filterLog(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "READER_STATE") && !strings.Contains(l, "ReaderStates") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
