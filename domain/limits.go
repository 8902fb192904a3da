package domain

import (
	"fmt"
	"unicode/utf8"
)

// Lengths of the free-text fields that reach events, in characters (runes).
// Everything in an event is kept for as long as the event store lives, so no
// field is unbounded.
const (
	MaxNameLength    = 100 // a person's or company's name (氏名, 法人名)
	MaxAddressLength = 200 // a postal address (住所)
	MaxEmailLength   = 254 // RFC 5321's limit for a forward path
	MaxPhoneLength   = 30  // 15 digits and their separators
	MaxShortText     = 100 // a document type, a method, a serial, a hash
	MaxNoteLength    = 1000
)

// ErrTooLong is a free-text field over its length.
var ErrTooLong = Invalid("too_long", "A field is longer than allowed.")

// CheckLength returns ErrTooLong naming field when s has more than max
// characters, or is not valid UTF-8.
func CheckLength(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return ErrTooLong.With(field, fmt.Sprintf("%s is not valid UTF-8 text.", field))
	}
	if n := utf8.RuneCountInString(s); n > max {
		return ErrTooLong.With(field, fmt.Sprintf("%s may have at most %d characters; it has %d.", field, max, n))
	}
	return nil
}

// CheckLengths checks field, value, max triples in order and returns the
// first failure.
func CheckLengths(checks ...LengthCheck) error {
	for _, c := range checks {
		if err := CheckLength(c.Field, c.Value, c.Max); err != nil {
			return err
		}
	}
	return nil
}

// LengthCheck is one CheckLengths item.
type LengthCheck struct {
	Field, Value string
	Max          int
}
