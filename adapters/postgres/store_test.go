package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/storetest"
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// The suite runs with group commit (the default) and without it.
func TestConformance(t *testing.T) {
	t.Run("group-commit", func(t *testing.T) { conformance(t) })
	t.Run("one-tx-per-append", func(t *testing.T) { conformance(t, postgres.WithGroupCommit(0, 0)) })
}

func conformance(t *testing.T, opts ...postgres.Option) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		pool := pgtest.Pool(t)
		return storetest.Harness{
			Store: postgres.NewStore(pool, wallClock{}, append([]postgres.Option{postgres.WithPollInterval(5 * time.Millisecond), postgres.WithMaxEventSize(es.MaxEventSize)}, opts...)...),
			Keys:  postgres.NewKeyTable(pool),
			Tamper: func(t *testing.T, stream string, version int64) {
				// One byte of the payload: the first letter of the text.
				_, err := pool.Exec(context.Background(),
					`UPDATE events SET data = regexp_replace(data::text, '"text":"(.)', '"text":"Z')::json WHERE stream_id = $1 AND version = $2`, stream, version)
				if err != nil {
					t.Fatal(err)
				}
			},
			Verify: func(t *testing.T) (bool, string, int64) {
				r, err := postgres.Verify(context.Background(), pool)
				if err != nil {
					t.Fatal(err)
				}
				return r.Intact, r.Stream, r.Version
			},
		}
	})
}
