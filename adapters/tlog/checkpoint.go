package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a C2SP tlog-checkpoint: the origin line (the log's name,
// which is also the signing key's name), the tree size in decimal and the
// base64 root hash, each ending in a newline.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Body is the checkpoint's note text.
func (c Checkpoint) Body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ErrMalformedCheckpoint: the note text is not a tlog-checkpoint.
var ErrMalformedCheckpoint = errors.New("tlog: malformed checkpoint")

// ParseCheckpoint parses a checkpoint body (extension lines are allowed and
// ignored, as the spec says).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, ErrMalformedCheckpoint
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: bad tree size %q", ErrMalformedCheckpoint, lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: bad root hash", ErrMalformedCheckpoint)
	}
	c := Checkpoint{Origin: lines[0], Size: n}
	copy(c.Root[:], h)
	return c, nil
}

// Signer signs checkpoints with a note signer key (GANTRY_LOG_KEY).
type Signer struct {
	signer note.Signer
	vkey   string
}

// NewSigner parses a note signer key ("PRIVATE+KEY+name+hash+key", made by
// GenerateKey); the key's name is the log's origin.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("tlog: log signing key: %w", err)
	}
	vkey, err := verifierKeyOf(skey)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, vkey: vkey}, nil
}

// Origin is the log's name (the first line of its checkpoints).
func (s *Signer) Origin() string { return s.signer.Name() }

// VerifierKey is the public key clients verify checkpoints with
// ("name+hash+key", as note.NewVerifier reads it).
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns the signed note of c.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(c.Body())}, s.signer)
}

// GenerateKey returns a new Ed25519 signer key and its verifier key for a
// log named origin (a schema-less URL such as gantry.example/log).
func GenerateKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// verifierKeyOf derives the verifier key from a signer key: the signer key
// format ("PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)") is note's; the
// public key is the seed's Ed25519 public key.
func verifierKeyOf(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("tlog: log signing key: not a note signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("tlog: log signing key: not an Ed25519 note signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// OpenCheckpoint checks a signed checkpoint note against a verifier key and
// returns it. The origin must be the key's name.
func OpenCheckpoint(msg []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrMalformedCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

// Same reports whether two checkpoints commit to the same tree.
func (c Checkpoint) Same(d Checkpoint) bool {
	return c.Size == d.Size && bytes.Equal(c.Root[:], d.Root[:]) && c.Origin == d.Origin
}
