package eventstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/gantry-etc/gantry/domain"
)

// KeyTable stores each data subject's data key, wrapped by the key-encryption
// key. It never sees an unwrapped key.
//
// Put stores wrapped for subject unless a key (or its shredded tombstone)
// exists; either way it returns what is stored. Get returns ErrNoKey for an
// unknown subject and ErrShredded for a shredded one. Destroy deletes the
// wrapped key for good, leaving a tombstone; destroying twice is fine.
type KeyTable interface {
	Put(ctx context.Context, subject string, wrapped []byte) ([]byte, error)
	Get(ctx context.Context, subject string) ([]byte, error)
	Destroy(ctx context.Context, subject string) error
}

var (
	ErrNoKey    = errors.New("eventstore: no key for data subject")
	ErrShredded = errors.New("eventstore: data subject shredded")
)

const sealedKey = "$sealed"

// Sealer encrypts personal data per data subject (AES-256-GCM) with keys
// kept in a KeyTable, wrapped by a key-encryption key (KEK) that lives only in
// configuration. Shred destroys a subject's key: every sealed value of that
// subject reads back as erased from then on, in every copy (events, outbox).
//
// A new subject's key is not written to the key table when it is made: the
// events sealed under it carry it (EventData.Keys) and the event store writes
// it in the append's transaction, so no key exists without a committed event
// sealed under it. Until the codec hears that such an append committed
// (Codec.Committed), every event sealed under the new key carries it again.
//
// Unwrapped keys are cached in memory for sealing only; Shred drops the cache
// entry in this process. Opening never trusts that cache: it reads the key
// table (for a batch of events, once per batch: see Scope), so a shred made
// by any process takes effect at once. Safe for concurrent use.
type Sealer struct {
	kek   cipher.AEAD
	table KeyTable

	mu    sync.Mutex
	cache map[string]*cachedKey
}

// cachedKey is a subject's key as this process seals with it.
type cachedKey struct {
	aead    cipher.AEAD
	wrapped []byte
	stored  bool // the key table holds it (read from there, or an append carrying it committed)
}

// NewSealer returns a Sealer; kek must be 32 bytes.
func NewSealer(kek []byte, table KeyTable) (*Sealer, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("eventstore: key-encryption key must be 32 bytes, got %d", len(kek))
	}
	a, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	return &Sealer{kek: a, table: table, cache: map[string]*cachedKey{}}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// key reads subject's key from the key table (for opening: never cached).
func (s *Sealer) key(ctx context.Context, subject string) (cipher.AEAD, error) {
	wrapped, err := s.table.Get(ctx, subject)
	if err != nil {
		return nil, err
	}
	return s.unwrap(subject, wrapped)
}

// sealKey returns subject's key for sealing. When the key table holds none,
// a new key is made (and cached) but not stored: claim is then that key,
// which whatever is sealed with it must carry to the store.
func (s *Sealer) sealKey(ctx context.Context, subject string) (a cipher.AEAD, claim *SubjectKey, err error) {
	s.mu.Lock()
	c, ok := s.cache[subject]
	s.mu.Unlock()
	if !ok {
		stored := true
		wrapped, err := s.table.Get(ctx, subject)
		if errors.Is(err, ErrNoKey) {
			stored = false
			dek := make([]byte, 32)
			if _, err := rand.Read(dek); err != nil {
				return nil, nil, err
			}
			nonce := make([]byte, s.kek.NonceSize())
			if _, err := rand.Read(nonce); err != nil {
				return nil, nil, err
			}
			wrapped, err = s.kek.Seal(nonce, nonce, dek, []byte(subject)), nil
		}
		if err != nil {
			return nil, nil, err
		}
		a, err := s.unwrap(subject, wrapped)
		if err != nil {
			return nil, nil, err
		}
		s.mu.Lock()
		if c, ok = s.cache[subject]; !ok { // else another goroutine made one first: keep it
			c = &cachedKey{aead: a, wrapped: wrapped, stored: stored}
			s.cache[subject] = c
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.stored {
		claim = &SubjectKey{Subject: subject, Wrapped: c.wrapped}
	}
	return c.aead, claim, nil
}

// Stored records that the key table holds keys (an append carrying them
// committed): what is sealed under them no longer carries them.
func (s *Sealer) Stored(keys []SubjectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if c, ok := s.cache[k.Subject]; ok && bytes.Equal(c.wrapped, k.Wrapped) {
			c.stored = true
		}
	}
}

// Forget drops subjects' keys from the cache, so that the next seal reads
// the key table again (after ErrKeyChanged).
func (s *Sealer) Forget(subjects ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range subjects {
		delete(s.cache, sub)
	}
}

func (s *Sealer) unwrap(subject string, wrapped []byte) (cipher.AEAD, error) {
	ns := s.kek.NonceSize()
	if len(wrapped) < ns {
		return nil, fmt.Errorf("eventstore: wrapped key of subject is malformed")
	}
	dek, err := s.kek.Open(nil, wrapped[:ns], wrapped[ns:], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("eventstore: cannot unwrap data key (wrong key-encryption key?): %w", err)
	}
	return newGCM(dek)
}

// KeyScope holds the data keys of one batch of events, read in one round
// trip. It lives only as long as the batch (never across batches), so a
// shred is seen by the next batch. A nil *KeyScope holds nothing.
type KeyScope struct {
	keys map[string]cipher.AEAD // nil value: shredded
}

var sealedSubject = []byte(`{"` + sealedKey + `":{"subject":"`)

// Scope reads the keys of every subject sealed in datas (the stored JSON of
// events) in one round trip.
func (s *Sealer) Scope(ctx context.Context, datas ...[]byte) (*KeyScope, error) {
	seen := map[string]bool{}
	var subjects []string
	for _, d := range datas {
		for {
			i := bytes.Index(d, sealedSubject)
			if i < 0 {
				break
			}
			d = d[i+len(sealedSubject):]
			j := bytes.IndexByte(d, '"')
			if j < 0 {
				break
			}
			// A subject with escapes is left to the one-by-one path.
			if sub := string(d[:j]); !seen[sub] && !bytes.ContainsRune(d[:j], '\\') {
				seen[sub] = true
				subjects = append(subjects, sub)
			}
		}
	}
	b, ok := s.table.(KeyBatch)
	if len(subjects) == 0 || !ok {
		return nil, nil // without KeyBatch: one read per subject, as before
	}
	wrapped, err := b.GetMany(ctx, subjects)
	if err != nil {
		return nil, err
	}
	ks := &KeyScope{keys: make(map[string]cipher.AEAD, len(wrapped))}
	for sub, w := range wrapped {
		if w == nil {
			ks.keys[sub] = nil
			continue
		}
		a, err := s.unwrap(sub, w)
		if err != nil {
			return nil, err
		}
		ks.keys[sub] = a
	}
	for _, sub := range subjects {
		if _, ok := wrapped[sub]; !ok {
			ks.keys[sub] = nil // no key: reads as erased, as in key()
		}
	}
	return ks, nil
}

// openKey returns subject's key for opening: from the batch's scope, else
// from the key table.
func (s *Sealer) openKey(ctx context.Context, ks *KeyScope, subject string) (cipher.AEAD, error) {
	if ks != nil {
		if a, ok := ks.keys[subject]; ok {
			if a == nil {
				return nil, ErrShredded
			}
			return a, nil
		}
	}
	return s.key(ctx, subject)
}

// Shred destroys subject's key. Idempotent.
func (s *Sealer) Shred(ctx context.Context, subject string) error {
	s.mu.Lock()
	delete(s.cache, subject)
	s.mu.Unlock()
	return s.table.Destroy(ctx, subject)
}

type sealedNode struct {
	Subject string `json:"subject"`
	Nonce   []byte `json:"nonce"`
	CT      []byte `json:"ct"`
}

// SealJSON replaces every {"$pii":{subject,value}} member in data with
// {"$sealed":{subject,nonce,ct}}. Data without personal values is returned
// as is. keys are the new data keys it sealed under, which the store must
// write with the data (EventData.Keys).
func (s *Sealer) SealJSON(ctx context.Context, data []byte) (sealed []byte, keys []SubjectKey, err error) {
	if !bytes.Contains(data, []byte(`"`+domain.PersonalKey+`"`)) {
		return data, nil, nil
	}
	seen := map[string]bool{}
	sealed, err = s.rewrite(ctx, data, func(m map[string]any) (any, bool, error) {
		inner, ok := m[domain.PersonalKey].(map[string]any)
		if !ok || len(m) != 1 {
			return nil, false, nil
		}
		subject, _ := inner["subject"].(string)
		if subject == "" {
			return nil, false, errors.New("eventstore: personal value without a subject")
		}
		if erased, _ := inner["erased"].(bool); erased {
			return m, true, nil
		}
		plain, err := json.Marshal(inner["value"])
		if err != nil {
			return nil, false, err
		}
		a, claim, err := s.sealKey(ctx, subject)
		if err != nil {
			return nil, false, fmt.Errorf("sealing personal data: %w", err)
		}
		if claim != nil && !seen[subject] {
			seen[subject] = true
			keys = append(keys, *claim)
		}
		nonce := make([]byte, a.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, false, err
		}
		return map[string]any{sealedKey: sealedNode{Subject: subject, Nonce: nonce, CT: a.Seal(nil, nonce, plain, []byte(subject))}}, true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return sealed, keys, nil
}

// OpenJSON reverses SealJSON. Values whose subject was shredded come back
// as {"$pii":{"subject":…,"erased":true}}.
func (s *Sealer) OpenJSON(ctx context.Context, data []byte) ([]byte, error) {
	return s.OpenJSONIn(ctx, nil, data)
}

// OpenJSONIn is OpenJSON taking keys from ks (a batch's scope) first.
func (s *Sealer) OpenJSONIn(ctx context.Context, ks *KeyScope, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(`"`+sealedKey+`"`)) {
		return data, nil
	}
	if out, ok, err := s.openInPlace(ctx, ks, data); ok || err != nil {
		return out, err
	}
	return s.rewrite(ctx, data, func(m map[string]any) (any, bool, error) {
		raw, ok := m[sealedKey]
		if !ok || len(m) != 1 {
			return nil, false, nil
		}
		b, _ := json.Marshal(raw)
		var n sealedNode
		if err := json.Unmarshal(b, &n); err != nil {
			return nil, false, fmt.Errorf("eventstore: malformed sealed value: %w", err)
		}
		erased := map[string]any{domain.PersonalKey: map[string]any{"subject": n.Subject, "erased": true}}
		a, err := s.openKey(ctx, ks, n.Subject)
		if errors.Is(err, ErrShredded) || errors.Is(err, ErrNoKey) {
			return erased, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		plain, err := a.Open(nil, n.Nonce, n.CT, []byte(n.Subject))
		if err != nil {
			return nil, false, fmt.Errorf("eventstore: sealed value does not open: %w", err)
		}
		return map[string]any{domain.PersonalKey: map[string]any{"subject": n.Subject, "value": json.RawMessage(plain)}}, true, nil
	})
}

// openInPlace is OpenJSONIn without decoding the whole event into a tree:
// sealed values, written compactly by SealJSON as {"$sealed":{…}}, are
// found in the bytes and replaced by their opened form, and the rest of
// the event is kept as it is. The marker cannot occur inside a JSON
// string (its quotes would be escaped). ok is false when the data is not
// in that compact form (the caller then walks the tree).
func (s *Sealer) openInPlace(ctx context.Context, ks *KeyScope, data []byte) (out []byte, ok bool, err error) {
	marker := []byte(`{"` + sealedKey + `":`)
	if bytes.Count(data, marker) != bytes.Count(data, []byte(`"`+sealedKey+`"`)) {
		return nil, false, nil
	}
	out = make([]byte, 0, len(data)+len(data)/4)
	rest := data
	for {
		i := bytes.Index(rest, marker)
		if i < 0 {
			return append(out, rest...), true, nil
		}
		out = append(out, rest[:i]...)
		dec := json.NewDecoder(bytes.NewReader(rest[i+len(marker):]))
		var n sealedNode
		if err := dec.Decode(&n); err != nil {
			return nil, false, nil
		}
		end := i + len(marker) + int(dec.InputOffset())
		if end >= len(rest) || rest[end] != '}' {
			return nil, false, nil // another member beside $sealed
		}
		rest = rest[end+1:]
		subject, _ := json.Marshal(n.Subject)
		a, err := s.openKey(ctx, ks, n.Subject)
		if errors.Is(err, ErrShredded) || errors.Is(err, ErrNoKey) {
			out = append(out, `{"`+domain.PersonalKey+`":{"erased":true,"subject":`...)
			out = append(append(out, subject...), "}}"...)
			continue
		}
		if err != nil {
			return nil, false, err
		}
		plain, err := a.Open(nil, n.Nonce, n.CT, []byte(n.Subject))
		if err != nil {
			return nil, false, fmt.Errorf("eventstore: sealed value does not open: %w", err)
		}
		out = append(out, `{"`+domain.PersonalKey+`":{"subject":`...)
		out = append(append(out, subject...), `,"value":`...)
		out = append(append(out, plain...), "}}"...)
	}
}

// rewrite walks the JSON tree and replaces objects for which fn says so.
func (s *Sealer) rewrite(ctx context.Context, data []byte, fn func(map[string]any) (any, bool, error)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			if r, ok, err := fn(t); err != nil {
				return nil, err
			} else if ok {
				return r, nil
			}
			for k, c := range t {
				n, err := walk(c)
				if err != nil {
					return nil, err
				}
				t[k] = n
			}
		case []any:
			for i, c := range t {
				n, err := walk(c)
				if err != nil {
					return nil, err
				}
				t[i] = n
			}
		}
		return v, nil
	}
	out, err := walk(tree)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// WithholdJSON replaces every sealed value in data with null, so that it
// decodes as a zero domain.Personal (no subject, no value, not erased). It
// reads no key and opens nothing: for readers that never use personal data
// (see Codec.DecodeAllWithheld), which then cannot serve any, shredded or
// not. Data without sealed values is returned as is.
func WithholdJSON(data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(`"`+sealedKey+`"`)) {
		return data, nil
	}
	if out, ok := withholdInPlace(data); ok {
		return out, nil
	}
	var s *Sealer
	return s.rewrite(context.Background(), data, func(m map[string]any) (any, bool, error) {
		if _, ok := m[sealedKey]; !ok || len(m) != 1 {
			return nil, false, nil
		}
		return nil, true, nil
	})
}

// withholdInPlace is WithholdJSON on the compact form SealJSON writes:
// each {"$sealed":{…}} is found in the bytes and cut out, in one pass. ok
// is false when the data is not in that form (the caller then walks the
// tree).
func withholdInPlace(data []byte) (out []byte, ok bool) {
	name := []byte(`"` + sealedKey + `"`)
	out = make([]byte, 0, len(data))
	rest := data
	for {
		i := bytes.Index(rest, name)
		if i < 0 {
			return append(out, rest...), true
		}
		// The name cannot occur inside a JSON string (its quotes would be
		// escaped): here it is a member name, which must be the first of
		// its object and be followed by ':'.
		if i == 0 || rest[i-1] != '{' || i+len(name) >= len(rest) || rest[i+len(name)] != ':' {
			return nil, false
		}
		out = append(out, rest[:i-1]...)
		value := i + len(name) + 1
		n := skipObject(rest[value:])
		end := value + n
		if n <= 0 || end >= len(rest) || rest[end] != '}' {
			return nil, false // not an object, or another member beside $sealed
		}
		out = append(out, "null"...)
		rest = rest[end+1:]
	}
}

// skipObject returns the length of the compact JSON object b starts with
// (strings may hold braces and escaped quotes), or 0 when b does not start
// with a complete one.
func skipObject(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return 0
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := skipString(b[i+1:])
			if end < 0 {
				return 0
			}
			i += end + 1 // at the closing quote
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return 0
}

// skipString returns the index of the quote that closes the string whose
// contents b starts with, or -1.
func skipString(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		backslashes := 0
		for k := q - 1; k >= 0 && b[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q
		}
		i = q + 1
	}
}
