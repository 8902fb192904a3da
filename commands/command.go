package commands

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"sync"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Command is the identity of one retryable command: the API makes one from a
// request's Idempotency-Key. Its ID becomes the event store's command ID (one
// record per stream, ID@stream, written by the append in the same
// transaction as the events), and the values a command generates (IDs,
// passcodes, link secrets) are drawn from its Seed. A re-run of the same
// command therefore decides the same thing, and the store answers Duplicate
// with the first append's result: the retry answers what the first run
// answered, and nothing is appended twice.
type Command struct {
	// ID is "k:<scope>.<request>": scope names the key (route, caller and
	// key, hashed with a server key), request the request's content. The same
	// scope with another request is the key reused (refused). Empty: the
	// request sent no key.
	ID string
	// Request, when set, computes the request part of ID when it is first
	// needed (a streamed body is hashed as the handler reads it).
	Request func() string
	// Seed derives generated values (HMAC-SHA256 with labels).
	Seed []byte

	once     sync.Once
	mu       sync.Mutex
	draws    map[string]int
	replayed bool
	pos      es.Position
}

// Scope is the part of ID before the request hash.
func (c *Command) Scope() string {
	s, _, _ := strings.Cut(c.id(), ".")
	return s
}

// id is ID, completed by Request the first time.
func (c *Command) id() string {
	c.once.Do(func() {
		if c.Request != nil && c.ID != "" {
			c.ID += "." + c.Request()
		}
	})
	return c.ID
}

// keyed reports whether the command has a key.
func (c *Command) keyed() bool { return c != nil && c.id() != "" }

// Replayed reports whether an append of this request found its command
// already recorded (the answer is a replay).
func (c *Command) Replayed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.replayed
}

// Position is the global position of the last event this request appended
// (or found appended before): a consistency token for queries.
func (c *Command) Position() es.Position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos
}

func (c *Command) appended(res es.AppendResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.Duplicate {
		c.replayed = true
	}
	if c.pos.Less(res.Position) {
		c.pos = res.Position
	}
}

// recordID is the command record of one stream.
func (c *Command) recordID(stream string) string { return c.id() + "@" + stream }

// owns reports whether an event's command ID is this command's (for stream).
func (c *Command) owns(stream, commandID string) bool {
	return commandID == c.id() || commandID == c.recordID(stream)
}

// sameScope reports whether an event's command ID came from this command's
// key with any request.
func (c *Command) sameScope(commandID string) bool {
	return strings.HasPrefix(commandID, c.Scope()+".")
}

type commandKey struct{}

// WithCommand attaches a request's command identity to ctx. The API attaches
// one to every command request (with an empty ID when no Idempotency-Key was
// sent) so that the position of what it appended can be answered.
func WithCommand(ctx context.Context, c *Command) context.Context {
	return context.WithValue(ctx, commandKey{}, c)
}

// CommandFrom returns the command attached to ctx, or nil.
func CommandFrom(ctx context.Context) *Command {
	c, _ := ctx.Value(commandKey{}).(*Command)
	return c
}

// Random fills b for the labelled value: derived from the command's seed
// when ctx carries a keyed command (so a re-run draws the same value), from
// crypto/rand otherwise. Each draw of the same label gets its own value.
func Random(ctx context.Context, label string, b []byte) {
	c := CommandFrom(ctx)
	if c == nil || len(c.Seed) == 0 {
		_, _ = rand.Read(b)
		return
	}
	c.mu.Lock()
	if c.draws == nil {
		c.draws = map[string]int{}
	}
	n := c.draws[label]
	c.draws[label]++
	c.mu.Unlock()
	for block := uint32(0); len(b) > 0; block++ {
		m := hmac.New(sha256.New, c.Seed)
		m.Write([]byte(label))
		var ctr [8]byte
		binary.BigEndian.PutUint32(ctr[:4], uint32(n))
		binary.BigEndian.PutUint32(ctr[4:], block)
		m.Write(ctr[:])
		b = b[copy(b, m.Sum(nil)):]
	}
}

// Replay tells the request's command that its outcome was found in the log
// (a command that answers a retry from what it appended before, without
// appending): the answer is marked as a replay.
func Replay(ctx context.Context, res es.AppendResult) {
	if c := CommandFrom(ctx); c != nil {
		res.Duplicate = true
		c.appended(res)
	}
}
