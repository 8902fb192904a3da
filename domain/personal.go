package domain

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Personal holds personal data of one data subject (a person or a
// corporation's contact). Domain events carry personal data only inside
// Personal values. The event codec seals every Personal value with the
// subject's own key (AES-256-GCM) before it is stored; destroying that key
// (shredding the subject) erases it everywhere at once: reading the event back
// yields Erased == true and the zero Value, never an error.
//
// Subject must be a stable, non-personal identifier (an application ID, a
// contract number), never a name or an e-mail address.
type Personal[T any] struct {
	Subject string
	Value   T
	Erased  bool
}

// Seal marks v as personal data of subject.
func Seal[T any](subject string, v T) Personal[T] {
	return Personal[T]{Subject: subject, Value: v}
}

// PersonalKey is the JSON member that marks a Personal value in an event's
// plain encoding. The codec finds these members and replaces them with sealed
// ones; nothing else in this package knows about keys or ciphers.
const PersonalKey = "$pii"

type personalJSON struct {
	Subject string          `json:"subject"`
	Value   json.RawMessage `json:"value,omitempty"`
	Erased  bool            `json:"erased,omitempty"`
}

// MarshalJSON encodes p as {"$pii":{"subject":…,"value":…}}.
func (p Personal[T]) MarshalJSON() ([]byte, error) {
	inner := personalJSON{Subject: p.Subject, Erased: p.Erased}
	if !p.Erased {
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		inner.Value = v
	}
	return json.Marshal(map[string]personalJSON{PersonalKey: inner})
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (p *Personal[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*p = Personal[T]{}
		return nil
	}
	var outer map[string]personalJSON
	if err := json.Unmarshal(b, &outer); err != nil {
		return err
	}
	inner, ok := outer[PersonalKey]
	if !ok {
		return errors.New("domain: personal value without " + PersonalKey + " member (still sealed?)")
	}
	*p = Personal[T]{Subject: inner.Subject, Erased: inner.Erased}
	if inner.Erased || len(inner.Value) == 0 {
		return nil
	}
	return json.Unmarshal(inner.Value, &p.Value)
}
