package postgres

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/jackc/pgx/v5"
)

// wakeChannel is the PostgreSQL notification channel on which processes
// sharing a database say that they appended events.
const wakeChannel = "gantry_events"

func newToken() string { return rand.Text() }

// ShareWakes makes appends wake subscriptions across processes, until ctx
// ends: after each commit of an append in this process, one NOTIFY on
// gantry_events goes out (outside the append's transaction, so commits never
// queue for PostgreSQL's notification lock; appends committing while one is
// being sent share the next), and a connection of its own LISTENs and wakes
// this process's subscriptions when another process appended. Without it,
// other processes' events are seen within the poll interval. It returns
// when ctx ends.
func (s *Store) ShareWakes(ctx context.Context) {
	done := make(chan struct{})
	go func() { defer close(done); s.listen(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case <-s.notify:
		}
		if _, err := s.pool.Exec(ctx, `SELECT pg_notify('`+wakeChannel+`', $1)`, s.token); err != nil && ctx.Err() == nil {
			// Others still see the events within their poll interval.
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
}

// listen wakes this process's subscriptions on other processes'
// notifications; a lost connection is re-opened (and wakes them, since a
// notification may have been missed meanwhile).
func (s *Store) listen(ctx context.Context) {
	cfg := s.pool.Config().ConnConfig.Copy()
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, `LISTEN `+wakeChannel); err == nil {
				s.wakeLocal(false)
				for {
					n, err := conn.WaitForNotification(ctx)
					if err != nil {
						break
					}
					if n.Payload != s.token {
						s.wakeLocal(false)
					}
				}
			}
			_ = conn.Close(context.Background())
		}
		sleepCtx(ctx, time.Second)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
