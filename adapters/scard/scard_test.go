package scard_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	escard "github.com/ebfe/scard"

	"github.com/gantry-etc/gantry/adapters/scard"
	"github.com/gantry-etc/gantry/station"
	"github.com/gantry-etc/gantry/test/pcsctest"
	"github.com/gantry-etc/gantry/test/vcard"
)

// TestChainListsReaderAndCardAnswersSelect proves the chain: pcscd with
// the vpcd driver lists its reader through libpcsclite, and a virtual card
// connected to vpcd answers SELECT.
func TestChainListsReaderAndCardAnswersSelect(t *testing.T) {
	d := pcsctest.Start(t)
	ctx, err := escard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	readers, err := ctx.ListReaders()
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) == 0 || readers[0] != pcsctest.Reader {
		t.Fatalf("readers %q, want %q first", readers, pcsctest.Reader)
	}
	card := vcard.NewStaffCard([]byte{1, 2, 3, 4, 5, 6, 7, 8}, "1234")
	d.Insert(t, card)
	r := &scard.Reader{Wait: 5 * time.Second}
	serial, pub, err := r.StaffKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if serial != "0102030405060708" || len(pub) != 65 || pub[0] != 0x04 {
		t.Fatalf("serial %s, public key %x", serial, pub)
	}
}

func insert(t *testing.T, d *pcsctest.Daemon, c vcard.Card) *vcard.Inserted {
	t.Helper()
	return d.Insert(t, c)
}

func TestStaffCardSignsAfterPINAndLocksAfterThreeWrong(t *testing.T) {
	d := pcsctest.Start(t)
	card := vcard.NewStaffCard([]byte{0xAA, 0, 0, 0, 0, 0, 0, 1}, "2468")
	insert(t, d, card)
	r := &scard.Reader{Wait: 5 * time.Second}
	ctx := context.Background()
	_, pubBytes, err := r.StaffKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), pubBytes) //nolint:staticcheck
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	digest := sha256.Sum256([]byte("challenge"))
	_, sig, err := r.StaffSign(ctx, "2468", digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Fatal("the card's signature does not verify with its public key")
	}
	for left := 2; left >= 1; left-- {
		_, _, err = r.StaffSign(ctx, "0000", digest[:])
		var wp *station.WrongPINError
		if !errors.As(err, &wp) || wp.Left != left {
			t.Fatalf("wrong PIN: %v, want %d tries left", err, left)
		}
	}
	if _, _, err = r.StaffSign(ctx, "0000", digest[:]); !errors.Is(err, station.ErrCardLocked) {
		t.Fatalf("third wrong PIN: %v, want locked", err)
	}
	if _, _, err = r.StaffSign(ctx, "2468", digest[:]); !errors.Is(err, station.ErrCardLocked) {
		t.Fatalf("right PIN on a locked card: %v, want locked", err)
	}
	if card.Signatures() != 1 {
		t.Fatalf("%d signatures, want 1", card.Signatures())
	}
}

func TestSetupCardWriteAndFaults(t *testing.T) {
	d := pcsctest.Start(t)
	ctx := context.Background()
	r := &scard.Reader{Wait: 3 * time.Second}
	record := []byte(strings.Repeat("setup-record-", 40)) // 520 bytes: several chunks

	t.Run("no_card", func(t *testing.T) {
		r := &scard.Reader{Wait: 300 * time.Millisecond}
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrNoCard) {
			t.Fatalf("%v, want no card", err)
		}
	})
	t.Run("no_reader", func(t *testing.T) {
		r := &scard.Reader{Name: "Absent Reader 00 00"}
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrNoReader) {
			t.Fatalf("%v, want no reader", err)
		}
	})
	t.Run("written_and_read_back", func(t *testing.T) {
		card := vcard.NewSetupCard([]byte{0x5E, 0, 0, 0, 0, 0, 0, 1}, 1024, 100)
		insert(t, d, card)
		serial, got, err := r.WriteSetupRecord(ctx, record)
		if err != nil {
			t.Fatal(err)
		}
		if serial != "5E00000000000001" || string(got) != string(record) {
			t.Fatalf("serial %s, read back %d bytes", serial, len(got))
		}
		if n := card.Updates(); n != 2+6 { // header cleared, 6 chunks of ≤100, header
			t.Fatalf("%d UPDATE BINARY, want 8", n)
		}
	})
	t.Run("wrong_card_type", func(t *testing.T) {
		insert(t, d, vcard.NewStaffCard([]byte{1, 1, 1, 1, 1, 1, 1, 1}, "1234"))
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrWrongCard) {
			t.Fatalf("%v, want wrong card", err)
		}
	})
	t.Run("full", func(t *testing.T) {
		card := vcard.NewSetupCard([]byte{0x5E, 0, 0, 0, 0, 0, 0, 2}, 256, 100)
		insert(t, d, card)
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrCardFull) {
			t.Fatalf("%v, want full", err)
		}
		if card.Updates() != 0 {
			t.Fatal("a full card was written to")
		}
	})
	t.Run("write_protected", func(t *testing.T) {
		card := vcard.NewSetupCard([]byte{0x5E, 0, 0, 0, 0, 0, 0, 3}, 1024, 100)
		card.WriteProtected = true
		insert(t, d, card)
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrWriteProtected) {
			t.Fatalf("%v, want write-protected", err)
		}
	})
	t.Run("read_back_differs", func(t *testing.T) {
		card := vcard.NewSetupCard([]byte{0x5E, 0, 0, 0, 0, 0, 0, 4}, 1024, 100)
		card.CorruptReads = true
		insert(t, d, card)
		_, got, err := r.WriteSetupRecord(ctx, record)
		if err == nil && string(got) == string(record) {
			t.Fatal("a corrupted read-back came back equal")
		}
	})
	t.Run("removed_mid_write_then_retry_starts_over", func(t *testing.T) {
		card := vcard.NewSetupCard([]byte{0x5E, 0, 0, 0, 0, 0, 0, 5}, 1024, 100)
		card.RemoveAfterUpdates = 4
		in := insert(t, d, card)
		if _, _, err := r.WriteSetupRecord(ctx, record); !errors.Is(err, station.ErrCardRemoved) {
			t.Fatalf("%v, want card removed", err)
		}
		<-in.Gone()
		d.Remove(t, in)
		if c := card.Contents(); string(c[:4]) == "GSC1" {
			t.Fatal("an interrupted write left a valid header")
		}
		insert(t, d, card) // placed again
		_, got, err := r.WriteSetupRecord(ctx, record)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(record) {
			t.Fatal("the retried write read back differently")
		}
	})
}
