package station

import (
	"context"
	"crypto/rand"
	"time"
)

// IssueChallenge asks for a one-time challenge for Purpose (a cardauth
// purpose); Subject binds it (the setup of a JPKI check; empty otherwise).
type IssueChallenge struct {
	Purpose string
	Subject string
}

// Challenge is what the station has the card sign (via cardauth.Digest).
type Challenge struct {
	ID        string
	Nonce     []byte
	ExpiresAt time.Time
}

// IssueChallengeHandler stores challenges that live TTL. Expired rows are
// deleted as new ones are made.
type IssueChallengeHandler struct {
	DB    DB
	Clock Clock
	TTL   time.Duration
}

// Handle stores and answers a fresh challenge (32 random bytes).
func (h IssueChallengeHandler) Handle(ctx context.Context, cmd IssueChallenge) (Challenge, error) {
	now := h.Clock.Now()
	c := Challenge{ID: newID(), Nonce: make([]byte, 32), ExpiresAt: now.Add(h.TTL).UTC()}
	_, _ = rand.Read(c.Nonce)
	if _, err := h.DB.Exec(ctx, `DELETE FROM station_challenges WHERE expires_at < $1`, now.Add(-time.Hour)); err != nil {
		return Challenge{}, err
	}
	_, err := h.DB.Exec(ctx, `INSERT INTO station_challenges (challenge_id, purpose, subject, nonce, expires_at) VALUES ($1,$2,$3,$4,$5)`,
		c.ID, cmd.Purpose, cmd.Subject, c.Nonce, c.ExpiresAt)
	return c, err
}
