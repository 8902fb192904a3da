// Package passwordpolicy decides whether a staff password is good enough:
// at least MinLength characters, at most MaxBytes bytes (bcrypt reads no
// more), and not guessable by zxcvbn (github.com/trustelem/zxcvbn, a Go
// port of Dropbox's estimator with its lists of 30,000 common passwords,
// names and English words, keyboard walks, repeats and dates).
package passwordpolicy

import (
	"fmt"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/gantry-etc/gantry/domain"
)

const (
	// MinLength in characters.
	MinLength = 12
	// MaxBytes: bcrypt refuses longer secrets.
	MaxBytes = 72
	// MinScore is zxcvbn's "safely unguessable" (about 10^8 guesses and
	// more: moderate protection against an offline slow-hash attack).
	MinScore = 3
)

// ErrWeakPassword is a password the policy refuses (422).
var ErrWeakPassword = domain.Invalid("weak_password", "Choose a longer, less common password.")

// Policy is Check as a value (accounts.PasswordPolicy).
type Policy struct{}

// Check is the package's Check.
func (Policy) Check(password string, related ...string) error { return Check(password, related...) }

// Check returns ErrWeakPassword (field "password") with the reason, or
// nil. related are words the password must not be built on (the staff ID,
// the store).
func Check(password string, related ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return ErrWeakPassword.With("password", "The password must be valid UTF-8 text.")
	case n < MinLength:
		return ErrWeakPassword.With("password", fmt.Sprintf("Use at least %d characters (this one has %d).", MinLength, n))
	case len(password) > MaxBytes:
		return ErrWeakPassword.With("password", fmt.Sprintf("Use at most %d bytes (this one has %d).", MaxBytes, len(password)))
	}
	if r := zxcvbn.PasswordStrength(password, related); r.Score < MinScore {
		return ErrWeakPassword.With("password", "This password is too easy to guess: it is common or built from common words, names, keyboard patterns or the account's own name. Use a longer phrase of unrelated words.")
	}
	return nil
}
