package eventstore

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeyBatch is a KeyTable that can also fetch many wrapped keys in one read.
// GetMany returns, for each known subject, its wrapped key, or nil when it
// was shredded; unknown subjects are absent.
type KeyBatch interface {
	GetMany(ctx context.Context, subjects []string) (map[string][]byte, error)
}

// SealValue seals one value of subject for a read model or a file
// (AES-256-GCM under the subject's key, the subject as associated data;
// nonce ‖ ciphertext). The key is created when the subject has none. A
// shredded subject gives ErrShredded: its data must not be written again.
func (s *Sealer) SealValue(ctx context.Context, subject string, plain []byte) ([]byte, error) {
	if subject == "" {
		return nil, errors.New("eventstore: sealing a value without a subject")
	}
	a, err := s.storedKey(ctx, subject)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plain, []byte(subject)), nil
}

// storedKey is subject's key for sealing outside an append (a read model, a
// file): a new key is written to the key table first, as nothing carries it.
func (s *Sealer) storedKey(ctx context.Context, subject string) (cipher.AEAD, error) {
	for attempt := 0; ; attempt++ {
		a, claim, err := s.sealKey(ctx, subject)
		if err != nil || claim == nil {
			return a, err
		}
		stored, err := s.table.Put(ctx, subject, claim.Wrapped)
		if err != nil {
			s.Forget(subject)
			return nil, err
		}
		if bytes.Equal(stored, claim.Wrapped) {
			s.Stored([]SubjectKey{*claim})
			return a, nil
		}
		s.Forget(subject) // another process stored its key first: use that one
		if attempt > 0 {
			return nil, fmt.Errorf("eventstore: the key of a data subject keeps changing")
		}
	}
}

// Keyring holds the unwrapped keys of some subjects, fetched together for
// one read (a page of a view). It is never cached across reads, so a
// subject shredded by any process reads as erased from the next read on.
type Keyring struct {
	keys map[string]cipher.AEAD
}

// Keys fetches the keys of subjects in one read of the key table (one per
// subject when the table has no batch read), fresh: the in-memory cache is
// neither read nor filled, so shredding takes effect at once.
func (s *Sealer) Keys(ctx context.Context, subjects []string) (*Keyring, error) {
	kr := &Keyring{keys: map[string]cipher.AEAD{}}
	if len(subjects) == 0 {
		return kr, nil
	}
	wrapped := map[string][]byte{}
	if b, ok := s.table.(KeyBatch); ok {
		var err error
		if wrapped, err = b.GetMany(ctx, subjects); err != nil {
			return nil, err
		}
	} else {
		for _, sub := range subjects {
			w, err := s.table.Get(ctx, sub)
			if errors.Is(err, ErrNoKey) || errors.Is(err, ErrShredded) {
				continue
			}
			if err != nil {
				return nil, err
			}
			wrapped[sub] = w
		}
	}
	for sub, w := range wrapped {
		if w == nil {
			continue
		}
		a, err := s.unwrap(sub, w)
		if err != nil {
			return nil, err
		}
		kr.keys[sub] = a
	}
	return kr, nil
}

// Open returns the plain value sealed by SealValue for subject, or ok false
// when the subject's key is gone (erased) or there is no value. A value
// that does not open under a live key is an error (tampering, wrong KEK).
func (k *Keyring) Open(subject string, sealed []byte) (plain []byte, ok bool, err error) {
	a, live := k.keys[subject]
	if !live || len(sealed) == 0 {
		return nil, false, nil
	}
	ns := a.NonceSize()
	if len(sealed) < ns {
		return nil, false, fmt.Errorf("eventstore: sealed value of a subject is malformed")
	}
	plain, err = a.Open(nil, sealed[:ns], sealed[ns:], []byte(subject))
	if err != nil {
		return nil, false, fmt.Errorf("eventstore: sealed value does not open: %w", err)
	}
	return plain, true, nil
}

// Erased reports whether subject's key is absent from the ring (shredded or
// never created).
func (k *Keyring) Erased(subject string) bool {
	_, live := k.keys[subject]
	return !live
}

// Ring unwraps keys that the caller read from the key table in the same
// query as the sealed values they open (a view row joined with its
// subject's key row): wrapped maps a subject to its wrapped key, nil or
// absent when shredded or never made. Nothing is fetched, so a read costs
// one round trip, and a shred is seen by the next read as fresh as Keys.
// Unwrapping is remembered by the wrapped bytes themselves (never by the
// subject alone): a cached key serves only a read that found the same
// wrapped key still in the table.
func (s *Sealer) Ring(wrapped map[string][]byte) (*Keyring, error) {
	kr := &Keyring{keys: make(map[string]cipher.AEAD, len(wrapped))}
	for sub, w := range wrapped {
		if w == nil {
			continue
		}
		a, err := s.unwrapCached(sub, w)
		if err != nil {
			return nil, err
		}
		kr.keys[sub] = a
	}
	return kr, nil
}

// unwrappedLimit bounds the unwrap cache; when full it starts over.
const unwrappedLimit = 4096

// unwrapCached is unwrap remembered by (subject, wrapped key).
func (s *Sealer) unwrapCached(subject string, wrapped []byte) (cipher.AEAD, error) {
	id := subject + "\x00" + string(wrapped)
	s.mu.Lock()
	a, ok := s.unwrapped[id]
	s.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := s.unwrap(subject, wrapped)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.unwrapped) >= unwrappedLimit {
		clear(s.unwrapped)
	}
	s.unwrapped[id] = a
	s.mu.Unlock()
	return a, nil
}
