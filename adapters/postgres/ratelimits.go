package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/api"
)

// RateLimits keeps the API's rate-limit buckets in PostgreSQL (table
// rate_buckets), so that every instance on one database spends the same
// budget (api.RateStore, used with GANTRY_REPLICAS=on). Each bucket is a
// GCRA cell, equivalent to the in-memory token bucket (N requests per Per,
// burst N): one upsert per check decides and spends in one statement, so
// two instances never both spend the last token. Keys are stored as
// HMAC-SHA256 under Key, never as the address, ID or link they name.
type RateLimits struct {
	Pool *pgxpool.Pool
	// Key is the HMAC key of stored bucket keys (the same on every
	// instance).
	Key []byte
	// Now is the clock (default time.Now); instances should agree within
	// a fraction of the shortest emission interval.
	Now func() time.Time

	lastPrune atomic.Int64 // Unix microseconds of this instance's last prune
}

// pruneEvery is how often an instance deletes the buckets that have
// refilled (equivalent to absent).
const pruneEvery = time.Minute

// takeSQL spends one emission interval ($3) of the bucket $1 at $2 if the
// bucket's theoretical arrival time stays within the period ($4); it
// answers (true, 0), or (false, µs to wait) from the row as it was, with
// nothing written. All in Unix microseconds.
const takeSQL = `WITH up AS (
	INSERT INTO rate_buckets AS b (key, tat) VALUES ($1, $2::bigint + $3::bigint)
	ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, $2::bigint) + $3::bigint
	WHERE greatest(b.tat, $2::bigint) + $3::bigint - $2::bigint <= $4::bigint
	RETURNING 1)
SELECT true, 0::bigint FROM up
UNION ALL
SELECT false, greatest(b.tat, $2::bigint) + $3::bigint - $2::bigint - $4::bigint FROM rate_buckets b
WHERE b.key = $1 AND NOT EXISTS (SELECT 1 FROM up)`

// Take implements api.RateStore.
func (l *RateLimits) Take(ctx context.Context, key string, r api.Rate) (bool, time.Duration, error) {
	if r.N <= 0 || r.Per <= 0 {
		return true, 0, nil
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	t := now().UnixMicro()
	if last := l.lastPrune.Load(); t-last >= pruneEvery.Microseconds() && l.lastPrune.CompareAndSwap(last, t) {
		if _, err := l.Pool.Exec(ctx, `DELETE FROM rate_buckets WHERE tat < $1`, t); err != nil {
			return false, 0, translate(err)
		}
	}
	m := hmac.New(sha256.New, l.Key)
	m.Write([]byte(key))
	interval := (r.Per / time.Duration(r.N)).Microseconds()
	var ok bool
	var wait int64
	err := l.Pool.QueryRow(ctx, takeSQL, m.Sum(nil), t, interval, r.Per.Microseconds()).Scan(&ok, &wait)
	if errors.Is(err, pgx.ErrNoRows) {
		// Refused by a row another instance inserted after this
		// statement's snapshot began: the bucket is at least one interval
		// from a token.
		return false, time.Duration(interval) * time.Microsecond, nil
	}
	if err != nil {
		return false, 0, translate(err)
	}
	if ok {
		return true, 0, nil
	}
	return false, time.Duration(max(wait, 1)) * time.Microsecond, nil
}
