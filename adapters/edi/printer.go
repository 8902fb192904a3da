package edi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// PrinterFileName is the batch file of day: printer-YYYYMMDD.csv.
func PrinterFileName(day domain.Date) string {
	return "printer-" + day.Start().Format("20060102") + ".csv"
}

// PrinterSink writes card issuance records (カード発行情報) into one batch
// file per day in Dir, appending lines: the cost of a card does not grow
// with the day's file, and many cards share one fsync
// (BenchmarkPrinterSink).
//
// It works in two steps. Record writes the cards of a batch of card.Issued
// events into printer_edi (the card number is the key, so an event seen
// again adds nothing), many per statement, in the caller's transaction: the
// printer projector's, which commits them with its checkpoint. Flush then
// appends the recorded cards not yet written to their day files, oldest
// first, fsyncs each file once, and in one short transaction marks them
// written and records each file's new length (printer_files). No
// transaction is open while it writes files. A crash between the fsync and
// that commit leaves lines past the recorded length: the next Flush cuts
// them off and writes those cards again, so each card appears exactly
// once, as a whole line. One Flush runs at a time (a session advisory
// lock), whatever the number of processes.
//
// File layout: UTF-8 CSV, no header, one line per card, in the order the
// cards were issued: alphabet name, vehicle registration number, card
// type, card number, expiry YYYY/MM.
type PrinterSink struct {
	Pool *pgxpool.Pool
	Dir  string
}

// PrinterEntry is one issued card for the printer: the event that issued
// it, the day of its file and its record.
type PrinterEntry struct {
	EventID uuid.UUID
	Day     domain.Date
	Record  card.PrinterRecord
}

// Record records entries (in issue order) in tx, for a later Flush; a card
// recorded before is left as it is.
func (PrinterSink) Record(ctx context.Context, tx pgx.Tx, entries []PrinterEntry) error {
	if len(entries) == 0 {
		return nil
	}
	cards := make([]string, len(entries))
	days := make([]string, len(entries))
	lines := make([]string, len(entries))
	ids := make([]string, len(entries))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for i, e := range entries {
		buf.Reset()
		_ = w.Write(e.Record.Fields())
		w.Flush()
		cards[i], days[i], lines[i], ids[i] = e.Record.CardNumber, e.Day.String(), buf.String(), e.EventID.String()
	}
	_, err := tx.Exec(ctx, `INSERT INTO printer_edi (card, day, line, event_id)
		SELECT c, d::date, l, e::uuid FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(c, d, l, e, o)
		ORDER BY o
		ON CONFLICT (card) DO NOTHING`, cards, days, lines, ids)
	return err
}

// printerBatch is the most cards one Flush writes.
const printerBatch = 5000

// printerLock names the session advisory lock held by the one Flush at work.
const printerLock = "gantry printer edi"

type pendingLine struct {
	card string
	day  time.Time
	line string
}

// Flush appends recorded cards not yet written to their day files (at most
// printerBatch of them, oldest first) and answers how many it wrote. When
// another Flush is at work it answers 0 at once.
func (s PrinterSink) Flush(ctx context.Context) (int, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, printerLock).Scan(&got); err != nil || !got {
		return 0, err
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, printerLock); err != nil {
			conn.Conn().PgConn().Close(context.Background()) // a lock not given back dies with its session
		}
	}()
	rows, err := conn.Query(ctx, `SELECT card, day, line FROM printer_edi WHERE NOT written ORDER BY seq LIMIT $1`, printerBatch)
	if err != nil {
		return 0, err
	}
	var pending []pendingLine
	for rows.Next() {
		var p pendingLine
		if err := rows.Scan(&p.card, &p.day, &p.line); err != nil {
			rows.Close()
			return 0, err
		}
		pending = append(pending, p)
	}
	if err := rows.Err(); err != nil || len(pending) == 0 {
		return 0, err
	}
	byDay := map[time.Time][]string{}
	var days []time.Time
	cards := make([]string, len(pending))
	for i, p := range pending {
		if _, ok := byDay[p.day]; !ok {
			days = append(days, p.day)
		}
		byDay[p.day] = append(byDay[p.day], p.line)
		cards[i] = p.card
	}
	sizes := make([]int64, len(days))
	for i, d := range days {
		var known *int64
		if err := conn.QueryRow(ctx, `SELECT (SELECT size FROM printer_files WHERE day = $1)`, d).Scan(&known); err != nil {
			return 0, err
		}
		path := filepath.Join(s.Dir, PrinterFileName(domain.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}))
		if sizes[i], err = appendLines(path, known, byDay[d]); err != nil {
			return 0, fmt.Errorf("printer EDI: %w", err)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `UPDATE printer_edi SET written = true WHERE card = ANY($1)`, cards); err != nil {
		return 0, err
	}
	for i, d := range days {
		if _, err := tx.Exec(ctx, `INSERT INTO printer_files (day, size) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET size = EXCLUDED.size`, d, sizes[i]); err != nil {
			return 0, err
		}
	}
	return len(pending), tx.Commit(ctx)
}

// appendLines appends lines (each ending in a newline) to the file at path,
// fsyncs it and answers its new length. known is the length recorded by
// the last Flush that committed: lines past it are cut off first (their
// cards are among lines). A file without a recorded length (written line
// by line before printer_files existed) has a torn last line cut off and
// gets only the lines it does not hold yet.
func appendLines(path string, known *int64, lines []string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := st.Size()
	var have map[string]bool
	switch {
	case known != nil && end < *known:
		return 0, fmt.Errorf("%s is %d bytes, shorter than the %d bytes recorded as written; restore it from a backup", path, end, *known)
	case known != nil:
		end = *known
	case end > 0:
		data, err := io.ReadAll(io.NewSectionReader(f, 0, end))
		if err != nil {
			return 0, err
		}
		end = int64(bytes.LastIndexByte(data, '\n') + 1)
		have = map[string]bool{}
		for _, l := range bytes.SplitAfter(data[:end], []byte("\n")) {
			have[string(l)] = true
		}
	}
	if end < st.Size() {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	var buf bytes.Buffer
	for _, l := range lines {
		if !have[l] {
			buf.WriteString(l)
		}
	}
	if _, err := f.WriteAt(buf.Bytes(), end); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return end + int64(buf.Len()), nil
}
