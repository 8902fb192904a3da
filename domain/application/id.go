package application

import (
	"strings"
)

// ID is an application ID (申請ID): 1 to 40 ASCII letters, digits or hyphens.
// The caller allocates it; it is also the Subject of every Personal value in
// the application's events, so shredding it erases the application's
// personal data.
type ID struct{ s string }

// ParseID validates s as an application ID.
func ParseID(s string) (ID, error) {
	if !isToken(s) {
		return ID{}, ErrInvalidID.With("application_id", "")
	}
	return ID{s}, nil
}

// String returns the ID as given.
func (id ID) String() string { return id.s }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id.s == "" }

// MarshalText encodes the ID as its string.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.s), nil }

// UnmarshalText decodes and validates an ID; the empty text is the zero ID.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID{}
		return nil
	}
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// isToken reports whether s is 1 to 40 ASCII letters, digits or hyphens.
func isToken(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// validPasscode reports whether p is 4 to 64 printable ASCII characters
// without space or colon (the colon separates QR fields).
func validPasscode(p string) bool {
	if len(p) < 4 || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// QRPrefix is the version tag of the application QR payload. A future format
// gets a new tag ("GANTRY2:"); ParseQR keeps accepting the old ones.
const QRPrefix = "GANTRY1:"

// QR is the payload of the QR code mailed on completion and read by the
// store's tablet: "GANTRY1:<applicationID>:<passcode>", for example
// "GANTRY1:A2026-0001:x7Kp9qRt". It carries the plain passcode, so it is
// never stored; the domain only keeps the passcode hash.
type QR struct {
	id       ID
	passcode string
}

// NewQR builds the QR payload for a completed application.
func NewQR(id ID, passcode string) (QR, error) {
	if id.IsZero() {
		return QR{}, ErrInvalidID.With("application_id", "")
	}
	if !validPasscode(passcode) {
		return QR{}, ErrInvalidPasscode.With("passcode", "")
	}
	return QR{id: id, passcode: passcode}, nil
}

// ParseQR decodes a scanned QR payload. Surrounding white space is ignored;
// anything else that is not exactly the GANTRY1 format is ErrInvalidQR with
// the reason.
func ParseQR(s string) (QR, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, QRPrefix)
	if !ok {
		return QR{}, ErrInvalidQR.With("qr", "The QR code does not start with "+QRPrefix+"; it is not a Gantry application QR code.")
	}
	idPart, pass, ok := strings.Cut(rest, ":")
	if !ok {
		return QR{}, ErrInvalidQR.With("qr", "The QR code has no passcode part; expected "+QRPrefix+"<application ID>:<passcode>.")
	}
	id, err := ParseID(idPart)
	if err != nil {
		return QR{}, ErrInvalidQR.With("qr", "The application ID in the QR code is malformed; type the application ID and passcode instead.")
	}
	if !validPasscode(pass) {
		return QR{}, ErrInvalidQR.With("qr", "The passcode in the QR code is malformed; type the application ID and passcode instead.")
	}
	return QR{id: id, passcode: pass}, nil
}

// Encode returns the QR payload text.
func (q QR) Encode() string { return QRPrefix + q.id.s + ":" + q.passcode }

// ID is the application ID in the payload.
func (q QR) ID() ID { return q.id }

// Passcode is the plain passcode in the payload; pass it to Receive.
func (q QR) Passcode() string { return q.passcode }

// PasscodeVerifier checks a passcode attempt against the stored slow hash
// (bcrypt, argon2id…). The domain never hashes; the command layer supplies
// the verifier.
type PasscodeVerifier interface {
	Verify(hash, attempt string) bool
}

// VerifyFunc adapts a function to PasscodeVerifier.
type VerifyFunc func(hash, attempt string) bool

// Verify calls f.
func (f VerifyFunc) Verify(hash, attempt string) bool { return f(hash, attempt) }
