package projections

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lead blocks until this process holds the PostgreSQL session advisory
// lock named key, on a connection of its own (made from cfg, outside any
// pool), trying every second. It returns a context that ends when the lock
// is lost (its connection is checked every second: a process that died or
// lost its connection has lost the lock too) or ctx ends, and the function
// that gives the lock up. ok is false when ctx ended first.
//
// Among processes on one database, at most one holds the lock at a time, so
// work done only under it (a scheduled job) runs in one process at a time;
// when the holder dies, another takes over within about 2 s. Work under
// the lock must still be safe to repeat: between losing the connection and
// noticing it, the old holder may still be finishing.
func Lead(ctx context.Context, cfg *pgx.ConnConfig, key string, log *slog.Logger) (lctx context.Context, release func(), ok bool) {
	for {
		if lctx, release, ok := TryLead(ctx, cfg, key, func(err error) {
			if log != nil {
				log.Warn("leadership lost", "lock", key, "err", err)
			}
		}); ok {
			return lctx, release, true
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, false
		case <-t.C:
		}
	}
}

// TryLead tries once to take the session advisory lock named key on a
// connection of its own (see Lead). When it gets it, the returned context
// ends when the lock's connection fails a check (each second: lost is then
// called with the error) or ctx ends; release gives the lock up.
func TryLead(ctx context.Context, cfg *pgx.ConnConfig, key string, lost func(error)) (lctx context.Context, release func(), ok bool) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, false
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil || !got {
		_ = conn.Close(context.Background())
		return nil, nil, false
	}
	lctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				if _, err := conn.Exec(lctx, `SELECT 1`); err != nil {
					if lctx.Err() == nil && lost != nil {
						lost(err)
					}
					cancel()
					return
				}
			}
		}
	}()
	return lctx, func() {
		cancel()
		<-watched
		_ = conn.Close(context.Background()) // ends the session: the lock is released
	}, true
}
