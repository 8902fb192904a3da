package cardsdb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/billing"
)

// UsageStore runs a usage import as ONE transaction of the event store
// (cards.UsageStore): the records go into usage_records chunk by chunk as
// the file is read, and usage.file_imported is appended in the same
// transaction (commands.AppendWithin over postgres.Store.AppendWithin), so
// records and event commit together or not at all.
//
// Per chunk (see usageLoader.Load): rows whose card was never issued (no
// card-<number> stream) are left out and reported; then one query asks
// whether any of the chunk's (operator, record id) is already in
// usage_records (an earlier file, or an earlier chunk of this one). If none
// is, the chunk is COPied straight into usage_records; otherwise it goes
// through a temporary staging table and INSERT … ON CONFLICT DO NOTHING,
// which skips the known ones. No savepoints: a long import keeps one
// transaction ID. A concurrent import of overlapping records may still
// collide at COPY; that import then fails whole and can be sent again.
type UsageStore struct {
	Streams commands.Streams
	Store   commands.TxStore[pgx.Tx]
}

// Import implements cards.UsageStore. The loader works one chunk behind
// the reader (UsageLoader.Load), so parsing and PostgreSQL's work overlap;
// the append waits until the last chunk is loaded, and any chunk's error
// fails the import whole.
func (s UsageStore) Import(ctx context.Context, fill func(ctx context.Context, l cards.UsageLoader) ([]commands.StreamEvents, error)) ([]es.AppendResult, error) {
	return commands.AppendWithin(ctx, s.Streams, s.Store, func(ctx context.Context, tx pgx.Tx) ([]commands.StreamEvents, error) {
		l := NewUsageLoader(tx)
		evs, err := fill(ctx, l)
		// The transaction is the loader's until its last chunk is done,
		// also when fill failed (it is rolled back after this returns).
		if werr := l.wait(); err == nil {
			err = werr
		}
		if err != nil {
			return nil, err
		}
		return evs, nil
	})
}

// usageColumns leave out file_sha256 (not known while the file streams) and
// import_tx (its default is the importing transaction's ID, the commit part
// of the usage.file_imported event's position; migration 02100).
var usageColumns = []string{"operator", "record_id", "card", "vehicle", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll", "usage_date"}

// UsageColumns are the columns of usage_records the loader fills, in order
// (for benchmarks that compare with a raw COPY).
func UsageColumns() []string { return slices.Clone(usageColumns) }

// NewUsageLoader loads records in tx (cards.UsageLoader).
func NewUsageLoader(tx pgx.Tx) *UsageLoader {
	return &UsageLoader{tx: tx, known: map[string]bool{}}
}

// UsageLoader is one import's loader inside its transaction. Load hands a
// chunk to a goroutine that loads it on the transaction and returns at
// once, so the reader parses the next chunk meanwhile; the next Load (or
// Result, or wait) first waits for it. At most one chunk is in flight, so
// the transaction is used by one goroutine at a time.
type UsageLoader struct {
	tx      pgx.Tx
	known   map[string]bool // card number → issued, for cards seen so far
	res     cards.UsageLoad
	staging bool
	rows    []billing.UsageRecord
	pending []billing.UsageRecord // the chunk in flight (a copy: the reader reuses its slice)
	done    chan error            // the chunk in flight's outcome; nil when none
	err     error                 // the first chunk's error
}

// Result implements cards.UsageLoader, after the chunk in flight is loaded
// (its error, if any, fails the import in UsageStore.Import).
func (l *UsageLoader) Result() cards.UsageLoad {
	_ = l.wait()
	r := l.res
	r.UnknownCards = slices.Clone(l.res.UnknownCards)
	slices.Sort(r.UnknownCards)
	return r
}

// Load implements cards.UsageLoader: it returns the error of an earlier
// chunk, or hands records over and returns while they load.
func (l *UsageLoader) Load(ctx context.Context, records []billing.UsageRecord) error {
	if err := l.wait(); err != nil {
		return err
	}
	l.pending = append(l.pending[:0], records...)
	done := make(chan error, 1)
	l.done = done
	go func(chunk []billing.UsageRecord) { done <- l.load(ctx, chunk) }(l.pending)
	return nil
}

// wait waits for the chunk in flight and returns the first error of any.
func (l *UsageLoader) wait() error {
	if l.done != nil {
		if err := <-l.done; err != nil && l.err == nil {
			l.err = err
		}
		l.done = nil
	}
	return l.err
}

// load loads one chunk on the transaction.
func (l *UsageLoader) load(ctx context.Context, records []billing.UsageRecord) error {
	if err := l.learnCards(ctx, records); err != nil {
		return err
	}
	rows := l.rows[:0]
	for _, u := range records {
		if l.known[u.Card().String()] {
			rows = append(rows, u)
		}
	}
	l.rows = rows
	if len(rows) == 0 {
		return nil
	}
	ops, ids := make([]string, len(rows)), make([]string, len(rows))
	for i, u := range rows {
		ops[i], ids[i] = u.Operator(), u.RecordID()
	}
	// First one probe per road operator: is any record in the span of the
	// chunk's record IDs (min and max in the index's own order)? A new
	// file's IDs usually follow the last file's, so this is mostly the
	// answer; only when the span holds records are the chunk's own IDs
	// probed one by one.
	var seen bool
	if err := l.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM (SELECT k.operator, min(k.record_id) AS lo, max(k.record_id) AS hi
			FROM unnest($1::text[], $2::text[]) AS k(operator, record_id) GROUP BY k.operator) r
		JOIN LATERAL (SELECT 1 FROM usage_records u WHERE u.operator = r.operator AND u.record_id BETWEEN r.lo AND r.hi LIMIT 1) x ON true)`, ops, ids).Scan(&seen); err != nil {
		return fmt.Errorf("usage import: %w", err)
	}
	if seen {
		if err := l.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM usage_records u JOIN unnest($1::text[], $2::text[]) AS k(operator, record_id)
			ON u.operator = k.operator AND u.record_id = k.record_id)`, ops, ids).Scan(&seen); err != nil {
			return fmt.Errorf("usage import: %w", err)
		}
	}
	if !seen && !repeats(rows) {
		n, err := l.tx.CopyFrom(ctx, pgx.Identifier{"usage_records"}, usageColumns, UsageRows(rows))
		if err != nil {
			return fmt.Errorf("usage import: copy: %w", err)
		}
		l.res.Imported += int(n)
		return nil
	}
	n, err := l.insertNew(ctx, rows)
	if err != nil {
		return err
	}
	l.res.Imported += n
	l.res.AlreadyKnown += len(rows) - n
	return nil
}

// repeats reports whether one (operator, record id) occurs twice in rows.
func repeats(rows []billing.UsageRecord) bool {
	seen := make(map[[2]string]struct{}, len(rows))
	for _, u := range rows {
		k := [2]string{u.Operator(), u.RecordID()}
		if _, ok := seen[k]; ok {
			return true
		}
		seen[k] = struct{}{}
	}
	return false
}

// learnCards looks up, in one query, the cards of records not seen before:
// a card is known when its card stream exists in the event store.
func (l *UsageLoader) learnCards(ctx context.Context, records []billing.UsageRecord) error {
	var streams []string
	for _, u := range records {
		c := u.Card().String()
		if _, ok := l.known[c]; !ok {
			l.known[c] = false
			streams = append(streams, "card-"+c)
		}
	}
	if len(streams) == 0 {
		return nil
	}
	rows, err := l.tx.Query(ctx, `SELECT stream_id FROM events WHERE stream_id = ANY($1) AND version = 1`, streams)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range found {
		l.known[strings.TrimPrefix(s, "card-")] = true
	}
	for _, s := range streams {
		if c := strings.TrimPrefix(s, "card-"); !l.known[c] {
			l.res.UnknownCards = append(l.res.UnknownCards, c)
		}
	}
	return nil
}

// insertNew loads rows through a staging table, skipping records imported
// before (or twice in this file); it returns how many were new.
func (l *UsageLoader) insertNew(ctx context.Context, rows []billing.UsageRecord) (int, error) {
	if !l.staging {
		if _, err := l.tx.Exec(ctx, `CREATE TEMP TABLE usage_staging (LIKE usage_records) ON COMMIT DROP`); err != nil {
			return 0, err
		}
		l.staging = true
	} else if _, err := l.tx.Exec(ctx, `TRUNCATE usage_staging`); err != nil {
		return 0, err
	}
	if _, err := l.tx.CopyFrom(ctx, pgx.Identifier{"usage_staging"}, usageColumns, UsageRows(rows)); err != nil {
		return 0, fmt.Errorf("usage import: copy: %w", err)
	}
	cols := strings.Join(usageColumns, ", ")
	tag, err := l.tx.Exec(ctx, `INSERT INTO usage_records (`+cols+`) SELECT `+cols+` FROM usage_staging ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// UsageRows streams records as rows of UsageColumns for COPY.
func UsageRows(rows []billing.UsageRecord) pgx.CopyFromSource {
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(rows) {
			return nil, nil
		}
		u := rows[i]
		i++
		return []any{u.Operator(), u.RecordID(), u.Card().String(), u.Vehicle().String(), u.EntryIC(), u.EntryAt(), u.ExitIC(), u.ExitAt(),
			int64(u.Toll()), u.UsageDate().Start()}, nil
	})
}
