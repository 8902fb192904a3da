package cards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
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
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE usage_staging (LIKE usage_records) ON COMMIT DROP`); err != nil {
		return res, err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(f.Records) {
			return nil, nil
		}
		u := f.Records[i]
		i++
		return []any{u.Operator(), u.RecordID(), u.Card().String(), u.Vehicle().String(), u.EntryIC(), u.EntryAt(), u.ExitIC(), u.ExitAt(),
			int64(u.Toll()), u.UsageDate().Start(), hash}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_staging"}, usageColumns, src); err != nil {
		return res, fmt.Errorf("usage import: copy: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT card FROM usage_staging s WHERE NOT EXISTS (SELECT 1 FROM card_registry c WHERE c.card = s.card) ORDER BY card`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return res, err
		}
		res.UnknownCards = append(res.UnknownCards, c)
	}
	rows.Close()
	var known int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM usage_staging s WHERE EXISTS (SELECT 1 FROM card_registry c WHERE c.card = s.card)`).Scan(&known); err != nil {
		return res, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO usage_records SELECT s.* FROM usage_staging s
		WHERE EXISTS (SELECT 1 FROM card_registry c WHERE c.card = s.card) ON CONFLICT DO NOTHING`)
	if err != nil {
		return res, err
	}
	res.Imported = int(tag.RowsAffected())
	res.AlreadyKnown = known - res.Imported
	return res, tx.Commit(ctx)
}
