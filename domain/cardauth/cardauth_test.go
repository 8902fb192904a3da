package cardauth_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain/cardauth"
)

func TestRecordSealedAndOpened(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	r := cardauth.SetupRecord{SetupID: "SU-1", StoreID: "S1", OBUNumber: "1234567890123456789", OBUKind: "ETC2.0", Plate: "品川 300 あ 12-34",
		TypeDesignationNumber: "12345", CategoryNumber: "0001", IssuedAt: time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)}
	verifier := func(pub ed25519.PublicKey) func(body, sig []byte) bool {
		return func(body, sig []byte) bool { return ed25519.Verify(pub, body, sig) }
	}
	b := cardauth.SealRecord(r, func(body []byte) []byte { return ed25519.Sign(key, body) })
	got, err := cardauth.OpenRecord(b, verifier(pub))
	r.Format = cardauth.RecordFormat
	if err != nil || got != r {
		t.Fatalf("opened %+v %v", got, err)
	}
	tampered := bytes.Replace(b, []byte("SU-1"), []byte("SU-2"), 1)
	for name, c := range map[string]struct {
		b   []byte
		pub ed25519.PublicKey
	}{"tampered": {tampered, pub}, "other_key": {b, otherPub}, "truncated": {b[:len(b)-2], pub}, "no_signature": {b[:bytes.IndexByte(b, '\n')], pub}} {
		if _, err := cardauth.OpenRecord(c.b, verifier(c.pub)); !errors.Is(err, cardauth.ErrNotGantryRecord) {
			t.Errorf("%s: %v, want ErrNotGantryRecord", name, err)
		}
	}
	if cardauth.Hash(b) == cardauth.Hash(tampered) || len(cardauth.Hash(b)) != 64 {
		t.Fatal("hash")
	}
}

func TestDigestsArePerPurposeAndDigestInfoIsPKCS1(t *testing.T) {
	n := []byte("nonce")
	if cardauth.Digest(cardauth.PurposeStaffLogin, n) == cardauth.Digest(cardauth.PurposeStaffEnrol, n) {
		t.Fatal("login and enrolment digests are equal")
	}
	// A card signing the DigestInfo raw (as JPKI does) makes the signature
	// Go's PKCS#1 v1.5 SHA-256 verification accepts.
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	d := cardauth.Digest(cardauth.PurposeJPKI, n)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.Hash(0), cardauth.DigestInfo(d))
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, d[:], sig); err != nil {
		t.Fatal(err)
	}
}
