package api

import (
	"context"
	"net"
	"time"
)

// AbuseConfig is how the API defends its public face (README, "Security
// and privacy").
type AbuseConfig struct {
	// Limits are the rate limits per Limit class; nil: DefaultLimits.
	Limits map[string]Rates
	// TrustedProxies may set X-Forwarded-For; nil trusts nobody (the
	// connection's address is the client's).
	TrustedProxies []*net.IPNet
	// MaxLimiterKeys bounds the rate limiter's memory (default 100,000
	// addresses and targets, about 20 MB at most).
	MaxLimiterKeys int
	// Revocations is the token deny-list; nil: tokens cannot be revoked
	// (tests of the api package only; the app always sets one).
	Revocations Revocations
	// Now is the wall clock of the rate limiter (default time.Now).
	Now func() time.Time
	// RateStore keeps the rate limits' buckets; nil: in this process's
	// memory (per instance). adapters/postgres.RateLimits shares them
	// between the instances on one database (GANTRY_REPLICAS=on).
	RateStore RateStore
}

// RateStore spends tokens of the rate limits' buckets, one bucket per key.
type RateStore interface {
	// Take spends one token of key's bucket (rate r); when there is none
	// it spends nothing and answers how long until there is one.
	Take(ctx context.Context, key string, r Rate) (ok bool, wait time.Duration, err error)
}

// Revocations is the token deny-list (adapters/postgres.Revocations).
type Revocations interface {
	// Revoke denies the token ID until it expires anyway.
	Revoke(ctx context.Context, jti string, expires time.Time) error
	// RevokeSubject denies every token of subject issued before at.
	RevokeSubject(ctx context.Context, subject string, at time.Time) error
	// Revoked reports whether the token ID is denied, or was issued to
	// subject before its not-before time.
	Revoked(ctx context.Context, jti, subject string, issued time.Time) (bool, error)
}

type abuse struct {
	limits  map[string]Rates
	limiter *limiter
	rates   RateStore
	revoked Revocations
}

func (s *Server) initAbuse(cfg AbuseConfig) {
	s.limits = cfg.Limits
	if s.limits == nil {
		s.limits = DefaultLimits()
	}
	n := cfg.MaxLimiterKeys
	if n <= 0 {
		n = 100_000
	}
	s.limiter = newLimiter(n, cfg.Now)
	s.rates = cfg.RateStore
	if s.rates == nil {
		s.rates = s.limiter
	}
	s.revoked = cfg.Revocations
	s.echo.IPExtractor = IPExtractor(cfg.TrustedProxies)
}
