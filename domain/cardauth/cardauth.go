// Package cardauth holds what the store station and the server must agree
// on byte for byte: the digests cards sign (staff login, enrolment, JPKI
// identity check) and the setup record written to setup cards. Standard
// library only.
package cardauth

import "crypto/sha256"

// Purposes of a one-time challenge. They are stored: never change them.
const (
	PurposeStaffLogin = "staff_login"
	PurposeStaffEnrol = "staff_enrol"
	PurposeJPKI       = "jpki_identity"
)

// Digest is what a card signs for a challenge: SHA-256 over a label naming
// the purpose, a zero byte and the challenge's random bytes, so a signature
// made for one purpose never passes for another.
func Digest(purpose string, nonce []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("gantry " + purpose + " v1"))
	h.Write([]byte{0})
	h.Write(nonce)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// sha256DigestInfoPrefix is the DER prefix of a PKCS#1 DigestInfo for
// SHA-256 (RFC 8017 section 9.2, note 1).
var sha256DigestInfoPrefix = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// DigestInfo wraps a SHA-256 digest into the DigestInfo a JPKI card signs
// with COMPUTE DIGITAL SIGNATURE (PKCS#1 v1.5 padding is the card's).
func DigestInfo(d [32]byte) []byte {
	return append(append([]byte{}, sha256DigestInfoPrefix...), d[:]...)
}
