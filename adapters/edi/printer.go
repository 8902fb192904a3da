package edi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// PrinterFileName is the batch file of day: printer-YYYYMMDD.csv.
func PrinterFileName(day domain.Date) string {
	return "printer-" + day.Start().Format("20060102") + ".csv"
}

// PrinterSink writes card issuance records (カード発行情報) into one batch
// file per day in Dir, appending one line per card: the cost of a card does
// not grow with the day's file (BenchmarkPrinterSink).
//
// Each record is first recorded in printer_edi (card number is the key, so
// a re-delivered event adds nothing), then its line is appended to the
// day's file and fsynced, then the row is marked written. A crash before
// the mark leaves the row unmarked; the event's re-delivery (the bus
// delivers at least once) then repairs the file: a torn last line is cut
// off, and the card's line is appended unless the file has it already.
// Each card therefore appears exactly once, as a whole line.
//
// Callers serialise Write per Dir (one writer per file; the cards feature
// holds a mutex).
//
// File layout: UTF-8 CSV, no header, one line per card, in the order the
// cards were issued: alphabet name, vehicle registration number, card
// type, card number, expiry YYYY/MM.
type PrinterSink struct {
	Pool *pgxpool.Pool
	Dir  string
}

// Write records r (issued by event id on day) and appends it to its day's
// file.
func (s PrinterSink) Write(ctx context.Context, eventID uuid.UUID, day domain.Date, r card.PrinterRecord) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(r.Fields())
	w.Flush()
	tag, err := s.Pool.Exec(ctx, `INSERT INTO printer_edi (card, day, line, event_id) VALUES ($1,$2,$3,$4) ON CONFLICT (card) DO NOTHING`,
		r.CardNumber, day.String(), buf.String(), eventID)
	if err != nil {
		return err
	}
	fresh := tag.RowsAffected() == 1
	var (
		d       time.Time
		line    string
		written bool
	)
	if err := s.Pool.QueryRow(ctx, `SELECT day, line, written FROM printer_edi WHERE card = $1`, r.CardNumber).Scan(&d, &line, &written); err != nil {
		return err
	}
	if written {
		return nil
	}
	path := filepath.Join(s.Dir, PrinterFileName(domain.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}))
	if err := appendLine(path, []byte(line), !fresh); err != nil {
		return fmt.Errorf("printer EDI: %w", err)
	}
	_, err = s.Pool.Exec(ctx, `UPDATE printer_edi SET written = true WHERE card = $1`, r.CardNumber)
	return err
}

// appendLine appends line (ending in a newline) to the file at path and
// fsyncs it. With repair (a record seen before but not marked written), a
// torn last line is cut off first and nothing is appended when the file
// holds the line already.
func appendLine(path string, line []byte, repair bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if !repair {
		// A torn line left by a crash of another card's write is cut off
		// first (its re-delivery appends it again): one byte read.
		torn, err := tornEnd(f)
		if err != nil {
			return errors.Join(err, f.Close())
		}
		repair = torn
	}
	if repair {
		done, err := repairFile(f, line)
		if err != nil || done {
			return errors.Join(err, f.Close())
		}
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tornEnd reports whether f's last byte is not a line end.
func tornEnd(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] != '\n', nil
}

// repairFile cuts a torn last line off f and reports whether f holds line.
func repairFile(f *os.File, line []byte) (bool, error) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return false, err
	}
	if end := bytes.LastIndexByte(data, '\n') + 1; end < len(data) {
		if err := f.Truncate(int64(end)); err != nil {
			return false, err
		}
		data = data[:end]
	}
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.Equal(l, line) {
			return true, nil
		}
	}
	return false, nil
}
