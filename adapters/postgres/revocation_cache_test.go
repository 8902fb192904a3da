package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Two instances on one database, each with a revocation cache listening to
// the deny-list's notifications. A token found not revoked is remembered
// (a change that notifies nobody is not seen until the TTL), a revocation
// through an instance holds there before Revoke returns and reaches the
// other by NOTIFY long before its TTL, a revocation written by plain SQL
// (as a staff change's transaction writes it) reaches both, and an
// instance whose subscription is lost caches nothing until it is back.
func TestRevocationCacheHearsEveryChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	instance := func(ttl time.Duration) postgres.Revocations {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		r := postgres.Revocations{Pool: pool, Cache: postgres.NewRevocationCache(ttl)}
		done := make(chan struct{})
		go func() { defer close(done); r.Cache.Listen(ctx, pool.Config().ConnConfig.Copy(), log) }()
		t.Cleanup(func() { cancel(); <-done; pool.Close() })
		waitFor(t, "the cache to subscribe", r.Cache.Live)
		return r
	}
	a, b := instance(300*time.Millisecond), instance(time.Hour)
	sql, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close()
	issued := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	revoked := func(r postgres.Revocations, jti, subject string) bool {
		t.Helper()
		bad, err := r.Revoked(ctx, jti, subject, issued)
		if err != nil {
			t.Fatal(err)
		}
		return bad
	}
	// silently denies jti: a write with triggers off notifies nobody.
	silently := func(jti string) {
		t.Helper()
		tx, err := sql.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO token_revocations (jti, expires_at) VALUES ($1, now() + interval '1 hour')`, jti); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Remembered: the silent denial is not seen, until a's TTL passes.
	if revoked(a, "t1", "staff:s1") || revoked(b, "t1", "staff:s1") {
		t.Fatal("a fresh token is revoked")
	}
	silently("t1")
	if revoked(a, "t1", "staff:s1") || revoked(b, "t1", "staff:s1") {
		t.Fatal("the answer was not remembered: every request still reads the deny-list")
	}
	time.Sleep(400 * time.Millisecond)
	if !revoked(a, "t1", "staff:s1") {
		t.Fatal("a remembered answer outlived its TTL")
	}

	// A logout through a: refused there at once, and on b (TTL one hour)
	// as soon as the notification arrives.
	if revoked(a, "t2", "staff:s2") || revoked(b, "t2", "staff:s2") {
		t.Fatal("t2 revoked before its logout")
	}
	if err := a.Revoke(ctx, "t2", issued.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !revoked(a, "t2", "staff:s2") {
		t.Fatal("a still accepts the token it revoked")
	}
	waitFor(t, "b to refuse the token a revoked", func() bool { return revoked(b, "t2", "staff:s2") })

	// A subject's revocation by plain SQL in a transaction of its own.
	if revoked(a, "t3", "staff:s3") || revoked(b, "t3", "staff:s3") {
		t.Fatal("t3 revoked before its subject")
	}
	if _, err := sql.Exec(ctx, `INSERT INTO token_subject_revocations (subject, not_before) VALUES ('staff:s3', $1)`, issued); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both to refuse the subject's token", func() bool { return revoked(a, "t3", "staff:s3") && revoked(b, "t3", "staff:s3") })

	// b's subscription is lost: b caches nothing (a silent denial is seen
	// at once) until it has subscribed again.
	if revoked(b, "t4", "staff:s4") {
		t.Fatal("t4 revoked")
	}
	if _, err := sql.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+postgres.RevocationChannel+`'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the caches to notice the lost subscriptions", func() bool { return !b.Cache.Live() })
	silently("t4")
	if !revoked(b, "t4", "staff:s4") {
		t.Fatal("b answered from its cache while it could not hear changes")
	}
	waitFor(t, "b to subscribe again", b.Cache.Live)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
