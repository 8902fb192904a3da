// Package edi reads and writes the EDI files of the ETC card business: the
// road operators' usage CSV (see docs/usage-format.md) and the card printer's
// daily batch file.
package edi

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// UsageHeader is the exact header line of a usage file.
const UsageHeader = "record_id,operator,card_number,vehicle,entry_ic,entry_at,exit_ic,exit_at,toll"

// UsageTimeLayout is the date-time format of entry_at and exit_at, Japan time.
const UsageTimeLayout = "2006-01-02 15:04:05"

// Problem is one problem of a usage file: the 1-based line, the column, why
// (the card commands' type, so a rejected file needs no translation).
type Problem = cards.UsageLineProblem

// FileError rejects a whole file; Problems has one entry per bad field.
type FileError = cards.UsageFileError

// UsageFile is a parsed usage file.
type UsageFile struct {
	Encoding string // "UTF-8" or "Shift_JIS"
	Records  []billing.UsageRecord
}

// Decode turns the file's bytes into UTF-8 text: valid UTF-8 (a BOM is
// dropped) is taken as UTF-8; anything else is decoded as Shift_JIS, and
// lines holding bytes that are not Shift_JIS either are reported.
func Decode(data []byte) (text string, encoding string, problems []Problem) {
	if utf8.Valid(data) {
		return string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))), "UTF-8", nil
	}
	out, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), data)
	if err != nil {
		return "", "Shift_JIS", []Problem{{Line: 1, Field: "encoding", Reason: "the file is neither UTF-8 nor Shift_JIS: " + err.Error()}}
	}
	text = string(out)
	for i, l := range strings.Split(text, "\n") {
		if strings.ContainsRune(l, utf8.RuneError) {
			problems = append(problems, Problem{Line: i + 1, Field: "encoding", Reason: "bytes that are neither UTF-8 nor Shift_JIS; re-export the file as UTF-8 or Shift_JIS"})
		}
	}
	return text, "Shift_JIS", problems
}

// ParseUsage reads a whole usage file. Any bad line rejects the file with a
// *FileError listing every problem found; nothing is returned then.
func ParseUsage(data []byte) (UsageFile, error) {
	text, enc, problems := Decode(data)
	if len(problems) > 0 {
		return UsageFile{}, &FileError{Encoding: enc, Problems: problems}
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	f := UsageFile{Encoding: enc}
	var bad []Problem
	line := 0
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad = append(bad, Problem{Line: line, Field: "csv", Reason: err.Error()})
			break
		}
		line, _ = r.FieldPos(0)
		if line == 1 {
			if strings.Join(row, ",") != UsageHeader {
				bad = append(bad, Problem{Line: 1, Field: "header", Reason: "the first line must be exactly " + UsageHeader})
			}
			continue
		}
		if len(row) != 9 {
			bad = append(bad, Problem{Line: line, Field: "row", Reason: fmt.Sprintf("%d fields; a usage line has 9", len(row))})
			continue
		}
		u, ps := parseRow(line, row)
		if len(ps) > 0 {
			bad = append(bad, ps...)
			continue
		}
		f.Records = append(f.Records, u)
	}
	if line == 0 {
		bad = append(bad, Problem{Line: 1, Field: "header", Reason: "the file is empty"})
	}
	if len(bad) > 0 {
		return UsageFile{}, &FileError{Encoding: enc, Problems: bad}
	}
	return f, nil
}

func parseRow(line int, row []string) (billing.UsageRecord, []Problem) {
	var ps []Problem
	at := func(field, s string) time.Time {
		t, err := time.ParseInLocation(UsageTimeLayout, strings.TrimSpace(s), domain.Tokyo)
		if err != nil {
			ps = append(ps, Problem{Line: line, Field: field, Reason: fmt.Sprintf("%q is not a date-time YYYY-MM-DD HH:MM:SS", s)})
		}
		return t
	}
	entry, exit := at("entry_at", row[5]), at("exit_at", row[7])
	toll, err := strconv.ParseInt(strings.TrimSpace(row[8]), 10, 64)
	if err != nil {
		ps = append(ps, Problem{Line: line, Field: "toll", Reason: fmt.Sprintf("%q is not a whole number of yen", row[8])})
	}
	if len(ps) > 0 {
		return billing.UsageRecord{}, ps
	}
	u, err := billing.NewUsageRecord(billing.UsageFields{
		RecordID: row[0], Operator: row[1], Card: row[2], Vehicle: row[3],
		EntryIC: row[4], EntryAt: entry, ExitIC: row[6], ExitAt: exit, Toll: toll,
	})
	if err != nil {
		var de *domain.Error
		field := "row"
		if errors.As(err, &de) {
			field = de.Field
		}
		if field == "card" {
			field = "card_number"
		}
		return billing.UsageRecord{}, []Problem{{Line: line, Field: field, Reason: err.Error()}}
	}
	return u, nil
}
