package bench

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// statementCounter counts the statements PostgreSQL ran in the
// benchmark's database (pg_stat_statements, when the server loads it:
// shared_preload_libraries = 'pg_stat_statements'), background work such
// as projector polls included.
type statementCounter struct{ pool *pgxpool.Pool }

// newStatementCounter creates the extension in the database if the server
// loads it; count then answers -1 when it does not.
func newStatementCounter(b *testing.B, pool *pgxpool.Pool) statementCounter {
	_, _ = pool.Exec(context.Background(), `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	return statementCounter{pool: pool}
}

func (c statementCounter) count() int64 {
	var n int64
	err := c.pool.QueryRow(context.Background(), `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}
