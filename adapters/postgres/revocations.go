package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Revocations is the API token deny-list in PostgreSQL (api.Revocations),
// shared by every instance, so a logout holds everywhere at once. With a
// Cache (listening to the deny-list's notifications) a token found not
// revoked is not looked up again for the cache's TTL unless the list
// changes; a nil Cache reads the list on every request.
type Revocations struct {
	Pool  *pgxpool.Pool
	Cache *RevocationCache
}

// Revoke denies jti until expires; rows of tokens that have expired anyway
// are pruned on the way.
func (r Revocations) Revoke(ctx context.Context, jti string, expires time.Time) error {
	_, err := r.Pool.Exec(ctx, `WITH pruned AS (DELETE FROM token_revocations WHERE expires_at < now() - interval '1 hour')
		INSERT INTO token_revocations (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`, jti, expires)
	r.Cache.Changed()
	return err
}

// RevokeSubject denies every token of subject issued at or before at.
func (r Revocations) RevokeSubject(ctx context.Context, subject string, at time.Time) error {
	err := r.revokeSubject(ctx, r.Pool, subject, at)
	r.Cache.Changed()
	return err
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// revokeSubject writes the subject's not-before time through q (a
// transaction, when it commits with another change).
func (Revocations) revokeSubject(ctx context.Context, q execer, subject string, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO token_subject_revocations (subject, not_before) VALUES ($1, $2)
		ON CONFLICT (subject) DO UPDATE SET not_before = greatest(token_subject_revocations.not_before, EXCLUDED.not_before)`, subject, at)
	return err
}

// Revoked reports whether jti is denied or subject's tokens issued at
// issued are.
func (r Revocations) Revoked(ctx context.Context, jti, subject string, issued time.Time) (bool, error) {
	var (
		k   = revocationKey{jti: jti, subject: subject, issued: issued.UnixNano()}
		gen uint64
	)
	if r.Cache != nil {
		var hit bool
		if hit, gen = r.Cache.lookup(k, time.Now()); hit {
			return false, nil
		}
	}
	var bad bool
	err := r.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM token_revocations WHERE jti = $1)
		OR EXISTS (SELECT 1 FROM token_subject_revocations WHERE subject = $2 AND not_before >= $3)`, jti, subject, issued).Scan(&bad)
	if err == nil && !bad && r.Cache != nil {
		r.Cache.remember(k, gen, time.Now())
	}
	return bad, err
}
