package postgres

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// RevocationChannel is the channel migration 06200's triggers notify when
// the deny-list changes.
const RevocationChannel = "gantry_token_revocations"

// RevocationCache remembers, for at most TTL, that a token is not revoked,
// so that an authenticated request does not read the deny-list each time.
// It is safe only while it hears every change: it caches nothing until
// Listen is subscribed to RevocationChannel (LISTEN), and forgets
// everything on each notification, on a revocation made through this
// process (before it answers), and when the subscription is lost. An answer
// read while a change arrived is not remembered (generation check). The TTL
// bounds how long a notification that never comes (a silently broken
// connection) could be missed.
type RevocationCache struct {
	TTL time.Duration

	mu   sync.Mutex
	live bool   // subscribed: answers may be remembered
	gen  uint64 // bumped by every change
	ok   map[revocationKey]time.Time
}

type revocationKey struct {
	jti, subject string
	issued       int64
}

// revocationCacheLimit bounds the cache; when full it starts over.
const revocationCacheLimit = 100_000

// NewRevocationCache returns a cache remembering answers for ttl.
func NewRevocationCache(ttl time.Duration) *RevocationCache {
	return &RevocationCache{TTL: ttl, ok: map[revocationKey]time.Time{}}
}

// lookup reports whether k is remembered as not revoked, and the
// generation to store a fresh answer under.
func (c *RevocationCache) lookup(k revocationKey, now time.Time) (hit bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return false, c.gen
	}
	until, ok := c.ok[k]
	return ok && now.Before(until), c.gen
}

// remember stores "not revoked" for k unless something changed since gen.
func (c *RevocationCache) remember(k revocationKey, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if len(c.ok) >= revocationCacheLimit {
		clear(c.ok)
	}
	c.ok[k] = now.Add(c.TTL)
}

// Changed forgets every remembered answer (the deny-list changed).
// A nil cache does nothing.
func (c *RevocationCache) Changed() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.ok)
}

func (c *RevocationCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.gen++
	clear(c.ok)
}

// Live reports whether the cache is subscribed (and so may answer).
func (c *RevocationCache) Live() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// Listen subscribes to RevocationChannel on a connection of its own (made
// with cfg) and forgets the cache on every notification, until ctx ends.
// A lost connection turns the cache off until a new one is subscribed
// (retried with backoff).
func (c *RevocationCache) Listen(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) {
	for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(wait*2, 5*time.Second) {
		began := time.Now()
		err := c.listen(ctx, cfg)
		c.setLive(false)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			wait = 100 * time.Millisecond
		}
		log.Warn("token revocation notifications lost; every request reads the deny-list until they are back", "err", err.Error(), "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (c *RevocationCache) listen(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+RevocationChannel); err != nil {
		return err
	}
	c.setLive(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		c.Changed()
	}
}
