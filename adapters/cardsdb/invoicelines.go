package cardsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// InvoiceLines is the invoice line store. An invoice's toll lines are not
// copied: each is a function of its usage record (billing.TollLine), and
// usage records are immutable (migration 02300), so table invoice_usage
// keeps one reference per invoice (its cards, the month's days, the
// snapshot in which its records were counted) and Lines rebuilds the toll
// lines from usage_records. The other lines (fees, and every line of an
// adjustment) are kept in invoice_lines (migration 02200), one row per line
// holding its canonical JSON (billing.CanonicalLine). Keep writes both
// inside the append of the invoice event (es.TxWrite, run in the append's
// transaction); Lines reads a set back in detail order, and every reader
// checks it against the event's commitment (billing.Hydrate), so a record
// or a row changed behind the log is an error, never a different invoice.
// Rows of both tables are immutable (triggers refuse changes).
type InvoiceLines struct{ Pool *pgxpool.Pool }

// usageRef is the reference that stands for one part's toll lines.
type usageRef struct {
	doc, part   string
	cards       []string
	first, last string // YYYY-MM-DD
	count       int32
}

// Keep returns the write that stores sets, run in the append's transaction
// (es.TxWrite): an invoice's toll lines as a reference (invoice_usage_keep,
// which counts the records in the same statement that takes the snapshot,
// and answers cards.ErrUsageChanged when they are not exactly the lines':
// a usage import committed after the run read the usage), every other line
// as a row of invoice_lines (one INSERT over arrays).
func (s InvoiceLines) Keep(sets ...billing.DocumentLines) es.TxWrite {
	var docs, parts, lines []string
	var seqs []int32
	var refs []usageRef
	for _, set := range sets {
		kept := set.Lines
		if set.Part == billing.PartLines {
			if ref, rest, ok := tollReference(set); ok {
				refs, kept = append(refs, ref), rest
			}
		}
		for i, l := range kept {
			docs = append(docs, set.Document.String())
			parts = append(parts, string(set.Part))
			seqs = append(seqs, int32(i+1))
			lines = append(lines, string(billing.CanonicalLine(l)))
		}
	}
	return func(ctx context.Context, tx es.TxExec) error {
		for _, r := range refs {
			if err := tx.Exec(ctx, `SELECT invoice_usage_keep($1, $2, $3, $4, $5, $6)`, r.doc, r.part, r.cards, r.first, r.last, r.count); err != nil {
				var pg *pgconn.PgError
				if errors.As(err, &pg) && pg.Code == "GX409" {
					return fmt.Errorf("%w: %s", cards.ErrUsageChanged, pg.Message)
				}
				return fmt.Errorf("invoice usage: %w", err)
			}
		}
		if len(docs) == 0 {
			return nil
		}
		if err := tx.Exec(ctx, `INSERT INTO invoice_lines (document, part, seq, line)
			SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])`, docs, parts, seqs, lines); err != nil {
			return fmt.Errorf("invoice lines: %w", err)
		}
		return nil
	}
}

// tollReference splits set's toll lines off as a reference to their usage
// records: the cards they bill and the span of their usage dates. ok is
// false when set has no toll lines.
func tollReference(set billing.DocumentLines) (ref usageRef, rest []billing.Line, ok bool) {
	seen := map[string]bool{}
	var first, last domain.Date
	for _, l := range set.Lines {
		if l.Kind != billing.KindToll {
			rest = append(rest, l)
			continue
		}
		if c := l.Card.String(); !seen[c] {
			seen[c] = true
			ref.cards = append(ref.cards, c)
		}
		if ref.count == 0 || l.UsageDate.Before(first) {
			first = l.UsageDate
		}
		if ref.count == 0 || last.Before(l.UsageDate) {
			last = l.UsageDate
		}
		ref.count++
	}
	if ref.count == 0 {
		return usageRef{}, nil, false
	}
	slices.Sort(ref.cards)
	ref.doc, ref.part = set.Document.String(), string(set.Part)
	ref.first, ref.last = first.String(), last.String()
	return ref, rest, true
}

// Lines returns one line set in detail order (none: an empty slice): the
// stored lines and, when the set has a usage reference, the toll lines
// rebuilt from the records it names.
func (s InvoiceLines) Lines(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
	rows, err := s.Pool.Query(ctx, `SELECT line FROM invoice_lines WHERE document = $1 AND part = $2 ORDER BY seq`, doc.String(), string(part))
	if err != nil {
		return nil, err
	}
	out := []billing.Line{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, err
		}
		var l billing.Line
		if err := json.Unmarshal(b, &l); err != nil {
			rows.Close()
			return nil, fmt.Errorf("invoice lines of %s %s, line %d: %w", doc, part, len(out)+1, err)
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.Pool.Query(ctx, `SELECT u.record_id, u.operator, u.card, u.vehicle, u.entry_ic, u.entry_at, u.exit_ic, u.exit_at, u.toll
		FROM invoice_usage r JOIN usage_records u ON u.card = ANY (r.cards) AND u.usage_date BETWEEN r.first_day AND r.last_day
		WHERE r.document = $1 AND r.part = $2 AND (u.import_tx IS NULL OR pg_visible_in_snapshot(u.import_tx, r.snapshot))
		ORDER BY u.card, u.entry_at`, doc.String(), string(part))
	if err != nil {
		return nil, err
	}
	var tolls []billing.Line
	for rows.Next() {
		var f billing.UsageFields
		if err := rows.Scan(&f.RecordID, &f.Operator, &f.Card, &f.Vehicle, &f.EntryIC, &f.EntryAt, &f.ExitIC, &f.ExitAt, &f.Toll); err != nil {
			rows.Close()
			return nil, err
		}
		u, err := billing.NewUsageRecord(f)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("invoice lines of %s %s: usage record %s: %w", doc, part, f.RecordID, err)
		}
		tolls = append(tolls, billing.TollLine(u))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(tolls) == 0 {
		return out, nil
	}
	return billing.MergeLines(tolls, out), nil
}

// Hash is the line count and the SHA-256 over the canonical lines of one
// set, each followed by a newline (billing.HashLines): what the event's
// commitment must equal. The toll lines are rebuilt from their usage
// records, so the hash is computed here, not in SQL.
func (s InvoiceLines) Hash(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) (count int, sha256hex string, err error) {
	lines, err := s.Lines(ctx, doc, part)
	if err != nil {
		return 0, "", err
	}
	canon := make([][]byte, len(lines))
	for i, l := range lines {
		canon[i] = billing.CanonicalLine(l)
	}
	return len(lines), billing.HashLines(canon), nil
}

// StoredLines counts the rows of one set in invoice_lines (the lines not
// rebuilt from usage records).
func (s InvoiceLines) StoredLines(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM invoice_lines WHERE document = $1 AND part = $2`, doc.String(), string(part)).Scan(&n)
	return n, err
}
