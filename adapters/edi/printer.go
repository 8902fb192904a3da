package edi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
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
// file per day in Dir. Each record is first recorded in printer_edi (card
// number is the key, so a re-delivered event adds nothing), then the day's
// file is rewritten whole from the table into a temp file and renamed over
// the old one. A crash between the two steps is repaired by the re-delivery:
// the file is rewritten again. Each card therefore appears exactly once.
//
// File layout: UTF-8 CSV, no header, one line per card:
// alphabet name, vehicle registration number, card type, card number,
// expiry YYYY/MM; lines in card-number order.
type PrinterSink struct {
	Pool *pgxpool.Pool
	Dir  string
}

// Write records r (issued by event id on day) and rewrites day's file.
func (s PrinterSink) Write(ctx context.Context, eventID uuid.UUID, day domain.Date, r card.PrinterRecord) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(r.Fields())
	w.Flush()
	if _, err := s.Pool.Exec(ctx, `INSERT INTO printer_edi (card, day, line, event_id) VALUES ($1,$2,$3,$4) ON CONFLICT (card) DO NOTHING`,
		r.CardNumber, day.String(), buf.String(), eventID); err != nil {
		return err
	}
	var d time.Time
	if err := s.Pool.QueryRow(ctx, `SELECT day FROM printer_edi WHERE card = $1`, r.CardNumber).Scan(&d); err != nil {
		return err
	}
	return s.rewrite(ctx, domain.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()})
}

func (s PrinterSink) rewrite(ctx context.Context, day domain.Date) error {
	rows, err := s.Pool.Query(ctx, `SELECT line FROM printer_edi WHERE day = $1 ORDER BY card`, day.String())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return err
		}
		buf.WriteString(l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, ".printer-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.Dir, PrinterFileName(day))); err != nil {
		return fmt.Errorf("printer EDI: %w", err)
	}
	return nil
}
