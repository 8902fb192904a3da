package cardsdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain/billing"
)

// UsageStore loads usage records into usage_records in one transaction
// (cards.UsageStore; the load measured by BenchmarkUsageImport).
//
// Rows whose card was never issued (no card-<number> stream in the event
// store) are left out and reported. The rest are COPied straight into
// usage_records; when some record is there already (a re-import, or an
// overlapping file), that COPY is rolled back to a savepoint and the rows go
// through a staging table and INSERT … ON CONFLICT DO NOTHING instead, which
// skips the known ones. Any error rolls everything back.
type UsageStore struct{ Pool *pgxpool.Pool }

var usageColumns = []string{"operator", "record_id", "card", "vehicle", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll", "usage_date", "file_sha256"}

// UsageColumns are the columns of usage_records the loader fills, in order
// (for benchmarks that compare with a raw COPY).
func UsageColumns() []string { return slices.Clone(usageColumns) }

// LoadUsage loads records; see UsageStore.
func (l UsageStore) LoadUsage(ctx context.Context, records []billing.UsageRecord, hash string) (cards.UsageLoad, error) {
	var res cards.UsageLoad
	tx, err := l.Pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx)
	known, err := knownCards(ctx, tx, records)
	if err != nil {
		return res, err
	}
	rows := make([]billing.UsageRecord, 0, len(records))
	unknown := map[string]bool{}
	for _, u := range records {
		if c := u.Card().String(); known[c] {
			rows = append(rows, u)
		} else if !unknown[c] {
			unknown[c] = true
			res.UnknownCards = append(res.UnknownCards, c)
		}
	}
	slices.Sort(res.UnknownCards)
	if _, err := tx.Exec(ctx, `SAVEPOINT usage_copy`); err != nil {
		return res, err
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_records"}, usageColumns, UsageRows(rows, hash))
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		res.Imported = int(n)
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT usage_copy`); err != nil {
			return res, err
		}
		if res.Imported, err = insertNew(ctx, tx, rows, hash); err != nil {
			return res, err
		}
	default:
		return res, fmt.Errorf("usage import: copy: %w", err)
	}
	res.AlreadyKnown = len(rows) - res.Imported
	return res, tx.Commit(ctx)
}

// knownCards answers which of the records' card numbers were ever issued:
// those whose card stream exists in the event store.
func knownCards(ctx context.Context, tx pgx.Tx, records []billing.UsageRecord) (map[string]bool, error) {
	seen := map[string]bool{}
	var streams []string
	for _, u := range records {
		if c := u.Card().String(); !seen[c] {
			seen[c] = true
			streams = append(streams, "card-"+c)
		}
	}
	rows, err := tx.Query(ctx, `SELECT stream_id FROM events WHERE stream_id = ANY($1) AND version = 1`, streams)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(found))
	for _, s := range found {
		known[strings.TrimPrefix(s, "card-")] = true
	}
	return known, nil
}

// insertNew loads rows through a staging table, skipping records imported
// before (or twice in this file); it returns how many were new.
func insertNew(ctx context.Context, tx pgx.Tx, rows []billing.UsageRecord, hash string) (int, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE usage_staging (LIKE usage_records) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_staging"}, usageColumns, UsageRows(rows, hash)); err != nil {
		return 0, fmt.Errorf("usage import: copy: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO usage_records SELECT * FROM usage_staging ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// UsageRows streams records as rows of UsageColumns for COPY.
func UsageRows(rows []billing.UsageRecord, hash string) pgx.CopyFromSource {
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(rows) {
			return nil, nil
		}
		u := rows[i]
		i++
		return []any{u.Operator(), u.RecordID(), u.Card().String(), u.Vehicle().String(), u.EntryIC(), u.EntryAt(), u.ExitIC(), u.ExitAt(),
			int64(u.Toll()), u.UsageDate().Start(), hash}, nil
	})
}
