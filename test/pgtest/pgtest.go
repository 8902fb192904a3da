// Package pgtest gives each test its own PostgreSQL database, migrated, on
// the project-local cluster (scripts/pg.sh) or on the server DATABASE_URL
// names. Databases are cloned from a migrated template made once per set of
// migrations, so a new database costs one CREATE DATABASE.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
)

// DefaultURL is the project-local cluster started by scripts/pg.sh.
const DefaultURL = "postgres://postgres@127.0.0.1:54329/gantry?sslmode=disable"

// AdminURL is the server tests create databases on.
func AdminURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// URL creates a fresh migrated database for t, dropped when t ends, and
// returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s (run scripts/pg.sh start or set DATABASE_URL): %v", AdminURL(), err)
	}
	defer admin.Close(ctx)
	tpl, err := template(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t_%s_%06d", name, rand.IntN(1000000))
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, name, tpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	// Tests do not need durability; the benchmarks use their own settings.
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %q SET synchronous_commit = off`, name)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name))
	})
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	return replaceDB(AdminURL(), cfg.Database, name)
}

// Pool creates a fresh migrated database for t and returns a pool on it,
// closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 20
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func replaceDB(url, from, to string) string {
	// URL form: scheme://user@host:port/db?params
	i := strings.LastIndex(url, "/"+from)
	if i < 0 {
		panic("pgtest: cannot find database name in DATABASE_URL")
	}
	return url[:i+1] + to + url[i+1+len(from):]
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(postgres.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(postgres.Migrations(), p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// template returns the name of a migrated template database, creating it
// under an advisory lock so parallel test binaries make it once.
func template(ctx context.Context, admin *pgx.Conn) (string, error) {
	name := "gantry_tpl_" + migrationsHash()
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(727274)`)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, building))
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q`, building)); err != nil {
		return "", err
	}
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, replaceDB(AdminURL(), cfg.Database, building))
	if err != nil {
		return "", err
	}
	err = postgres.Migrate(ctx, pool, nil)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %q RENAME TO %q`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}
