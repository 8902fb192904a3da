package cards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// ImportUsage imports one road operator usage file (docs/usage-format.md).
type ImportUsage struct {
	Name string
	Data []byte
}

// UsageImportResult says what an import did.
type UsageImportResult struct {
	SHA256       string   `json:"sha256"`
	Encoding     string   `json:"encoding"`
	Rows         int      `json:"rows"`
	Imported     int      `json:"imported"`
	AlreadyKnown int      `json:"already_known"`
	UnknownCards []string `json:"unknown_cards"`
	// Duplicate: this exact file was imported before; nothing was done.
	Duplicate bool        `json:"duplicate"`
	Position  es.Position `json:"-"`
}

// ImportUsageHandler runs ImportUsage: the whole file is parsed first (any
// bad line rejects it with an *edi.FileError and nothing is written), then
// all rows go in one transaction: COPY into a temporary staging table, then
// INSERT … ON CONFLICT DO NOTHING into usage_records, so a record id seen
// before changes nothing. Rows for card numbers never issued are skipped
// and reported. Finally usage.file_imported is recorded in the stream of
// the file's hash (a second import of the same bytes stops at that check).
type ImportUsageHandler struct {
	Streams commands.Streams
	Loader  UsageLoader
	Clock   commands.Clock
}

func (h ImportUsageHandler) Handle(ctx context.Context, cmd ImportUsage) (UsageImportResult, error) {
	sum := sha256.Sum256(cmd.Data)
	hash := hex.EncodeToString(sum[:])
	stream := UsageFileStream(hash)
	var seen bool
	v, err := h.Streams.Load(ctx, stream, func(domain.Event) { seen = true })
	if err != nil {
		return UsageImportResult{}, err
	}
	if seen {
		return UsageImportResult{SHA256: hash, Duplicate: true}, nil
	}
	res, err := h.Loader.Load(ctx, cmd.Data, hash)
	if err != nil {
		return UsageImportResult{}, err
	}
	ev := billing.UsageFileImported{SHA256: hash, Name: cmd.Name, Encoding: res.Encoding, Rows: res.Rows, Imported: res.Imported,
		AlreadyKnown: res.AlreadyKnown, UnknownCards: res.UnknownCards, ImportedOn: domain.DateOf(h.Clock.Now())}
	ar, err := h.Streams.Append(ctx, stream, v, ev)
	if errors.Is(err, es.ErrWrongExpectedVersion) {
		return UsageImportResult{SHA256: hash, Duplicate: true}, nil
	}
	if err != nil {
		return UsageImportResult{}, err
	}
	res.Position = ar.Position
	return res, nil
}

// UsageLoader parses a usage file and loads it into usage_records in one
// transaction (the import path measured by BenchmarkUsageImport).
//
// Rows whose card was never issued are left out and reported. The rest are
// COPied straight into usage_records; when some record is there already (a
// re-import, or an overlapping file), that COPY is rolled back to a savepoint
// and the rows go through a staging table and INSERT … ON CONFLICT DO
// NOTHING instead, which skips the known ones.
type UsageLoader struct{ Pool *pgxpool.Pool }

var usageColumns = []string{"operator", "record_id", "card", "vehicle", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll", "usage_date", "file_sha256"}

// Load parses data and loads its rows; see ImportUsageHandler.
func (l UsageLoader) Load(ctx context.Context, data []byte, hash string) (UsageImportResult, error) {
	f, err := edi.ParseUsage(data)
	if err != nil {
		return UsageImportResult{}, err
	}
	res := UsageImportResult{SHA256: hash, Encoding: f.Encoding, Rows: len(f.Records), UnknownCards: []string{}}
	tx, err := l.Pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx)
	known, err := knownCards(ctx, tx, f.Records)
	if err != nil {
		return res, err
	}
	rows := make([]billing.UsageRecord, 0, len(f.Records))
	unknown := map[string]bool{}
	for _, u := range f.Records {
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
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_records"}, usageColumns, usageRows(rows, hash))
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

// knownCards answers which of the records' card numbers were ever issued.
func knownCards(ctx context.Context, tx pgx.Tx, records []billing.UsageRecord) (map[string]bool, error) {
	seen := map[string]bool{}
	var cards []string
	for _, u := range records {
		if c := u.Card().String(); !seen[c] {
			seen[c] = true
			cards = append(cards, c)
		}
	}
	rows, err := tx.Query(ctx, `SELECT card FROM card_registry WHERE card = ANY($1)`, cards)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(found))
	for _, c := range found {
		known[c] = true
	}
	return known, nil
}

// insertNew loads rows through a staging table, skipping records imported
// before (or twice in this file); it returns how many were new.
func insertNew(ctx context.Context, tx pgx.Tx, rows []billing.UsageRecord, hash string) (int, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE usage_staging (LIKE usage_records) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_staging"}, usageColumns, usageRows(rows, hash)); err != nil {
		return 0, fmt.Errorf("usage import: copy: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO usage_records SELECT * FROM usage_staging ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func usageRows(rows []billing.UsageRecord, hash string) pgx.CopyFromSource {
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
