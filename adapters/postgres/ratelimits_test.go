package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Two instances (two pools, two RateLimits) on one database spend one
// budget: of 2N concurrent requests exactly N pass, the refused ones learn
// how long to wait, and the bucket refills at N per period. Keys rest only
// as HMACs.
func TestRateLimitsSharedBetweenInstances(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	var now time.Time = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	instance := func() *postgres.RateLimits {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return &postgres.RateLimits{Pool: pool, Key: []byte("k"), Now: clock}
	}
	a, b := instance(), instance()
	r := api.Rate{N: 10, Per: time.Minute}
	const key = "login|target|ST01"

	var wg sync.WaitGroup
	var passed, refused int
	var waits []time.Duration
	for i := range 2 * r.N {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := a
			if i%2 == 1 {
				l = b
			}
			ok, wait, err := l.Take(ctx, key, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case ok:
				passed++
			default:
				refused++
				waits = append(waits, wait)
			}
		}()
	}
	wg.Wait()
	if passed != r.N || refused != r.N {
		t.Fatalf("%d passed, %d refused over two instances; want %d and %d", passed, refused, r.N, r.N)
	}
	for _, w := range waits {
		if w <= 0 || w > r.Per/time.Duration(r.N) {
			t.Fatalf("refused with wait %s, want (0, %s]", w, r.Per/time.Duration(r.N))
		}
	}
	// Another key has its own budget.
	if ok, _, err := b.Take(ctx, "login|target|ST02", r); !ok || err != nil {
		t.Fatalf("another key: %v %v", ok, err)
	}
	// One interval later, one more request passes on either instance, then none.
	mu.Lock()
	now = now.Add(r.Per / time.Duration(r.N))
	mu.Unlock()
	if ok, _, err := b.Take(ctx, key, r); !ok || err != nil {
		t.Fatalf("after one interval: %v %v", ok, err)
	}
	if ok, _, err := a.Take(ctx, key, r); ok || err != nil {
		t.Fatalf("second after one interval: %v %v; want refused", ok, err)
	}
	var plain int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM rate_buckets WHERE position('ST01' in encode(key, 'escape')) > 0`).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("%d keys in plaintext, %v", plain, err)
	}
	// A bucket that has refilled is pruned (an instance prunes once a minute).
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if ok, _, err := a.Take(ctx, "verify|addr|192.0.2.1", r); !ok || err != nil {
		t.Fatal(ok, err)
	}
	var rows int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM rate_buckets`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d buckets after an hour, %v; want only the new one", rows, err)
	}
}

// BenchmarkRateLimitTake compares one check in memory and in PostgreSQL,
// side by side: go test ./adapters/postgres -run '^$' -bench RateLimitTake
func BenchmarkRateLimitTake(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.Pool(b)
	r := api.Rate{N: 1 << 30, Per: time.Hour}
	keys := make([]string, 26)
	for i := range keys {
		keys[i] = "login|addr|192.0.2." + string(rune('a'+i))
	}
	b.Run("memory", func(b *testing.B) { // what the in-memory store does per check: x/time/rate under a mutex
		var mu sync.Mutex
		bkts := map[string]*rate.Limiter{}
		for i := 0; b.Loop(); i++ {
			mu.Lock()
			l := bkts[keys[i%26]]
			if l == nil {
				l = rate.NewLimiter(rate.Every(r.Per/time.Duration(r.N)), r.N)
				bkts[keys[i%26]] = l
			}
			ok := l.AllowN(time.Now(), 1)
			mu.Unlock()
			if !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("postgres", func(b *testing.B) {
		l := &postgres.RateLimits{Pool: pool, Key: []byte("k")}
		for i := 0; b.Loop(); i++ {
			if ok, _, err := l.Take(ctx, keys[i%26], r); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("postgres_parallel", func(b *testing.B) {
		l := &postgres.RateLimits{Pool: pool, Key: []byte("k")}
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if ok, _, err := l.Take(ctx, keys[i%26], r); !ok || err != nil {
					b.Error(ok, err)
					return
				}
			}
		})
	})
}
