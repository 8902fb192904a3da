package cardsdb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/billing"
)

// InvoiceLines is the invoice line store: table invoice_lines (migration
// 02200), one row per detail line holding its canonical JSON
// (billing.CanonicalLine). Keep writes them inside the append of the
// invoice event (es.TxWrite, run in the append's transaction);
// Lines reads them back. Rows are immutable (a trigger refuses changes).
type InvoiceLines struct{ Pool *pgxpool.Pool }

var invoiceLineColumns = []string{"document", "part", "seq", "line"}

// Keep returns the write that stores sets in invoice_lines, run in the
// append's transaction (es.TxWrite: one INSERT over arrays).
func (s InvoiceLines) Keep(sets ...billing.DocumentLines) es.TxWrite {
	var docs, parts, lines []string
	var seqs []int32
	for _, set := range sets {
		for i, l := range set.Lines {
			docs = append(docs, set.Document.String())
			parts = append(parts, string(set.Part))
			seqs = append(seqs, int32(i+1))
			lines = append(lines, string(billing.CanonicalLine(l)))
		}
	}
	return func(ctx context.Context, tx es.TxExec) error {
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

// Lines returns one line set in order (none: an empty slice).
func (s InvoiceLines) Lines(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
	rows, err := s.Pool.Query(ctx, `SELECT line FROM invoice_lines WHERE document = $1 AND part = $2 ORDER BY seq`, doc.String(), string(part))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []billing.Line{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var l billing.Line
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("invoice lines of %s %s, line %d: %w", doc, part, len(out)+1, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Hash is the SHA-256 over the stored texts of one line set, each followed
// by a newline, computed by PostgreSQL: what a verifier compares with the
// event's commitment without decoding anything.
func (s InvoiceLines) Hash(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) (count int, sha256hex string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT count(*)::int, encode(sha256(convert_to(coalesce(string_agg(line || E'\n', '' ORDER BY seq), ''), 'UTF8')), 'hex')
		FROM invoice_lines WHERE document = $1 AND part = $2`, doc.String(), string(part)).Scan(&count, &sha256hex)
	return count, sha256hex, err
}
