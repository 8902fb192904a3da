// Package edi reads and writes the EDI files of the ETC card business: the
// road operators' usage CSV (see docs/usage-format.md) and the card printer's
// daily batch file.
package edi

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"

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

// Limits of the streaming reader.
const (
	// DefaultChunkRows is how many valid records ReadUsage hands over at once.
	DefaultChunkRows = 10000
	// MaxProblems is how many bad fields a rejected file lists; one more
	// entry then says how many were left out (memory stays bounded).
	MaxProblems = 1000
	// maxLineBytes is the longest line read (a usage line is ~100 bytes).
	maxLineBytes = 64 << 10
)

// Encodings of a usage file.
const (
	EncodingUTF8     = "UTF-8"
	EncodingShiftJIS = "Shift_JIS"
)

// ParseUsage reads a whole usage file held in memory (tests and small
// files; imports stream with ReadUsage). Any bad line rejects the file with
// a *FileError listing every problem found; nothing is returned then.
func ParseUsage(data []byte) (UsageFile, error) {
	var f UsageFile
	r, err := ReadUsage(bytes.NewReader(data), DefaultChunkRows, func(chunk []billing.UsageRecord) error {
		f.Records = append(f.Records, chunk...)
		return nil
	})
	f.Encoding = r.Encoding
	if err != nil {
		return UsageFile{Encoding: r.Encoding}, err
	}
	return f, nil
}

// UsageRead is what ReadUsage read.
type UsageRead struct {
	Encoding string // "UTF-8" or "Shift_JIS"
	Rows     int    // valid records handed over
	Lines    int    // lines read, header included
}

// ReadUsage reads a usage file from r line by line and hands its valid
// records to each, chunkRows at a time (the chunk's slice is reused: each
// must not keep it). Memory stays bounded whatever the file's size.
//
// The first line holding bytes beyond ASCII decides the encoding: valid
// UTF-8 makes the file UTF-8 (a BOM is dropped), anything else Shift_JIS; a
// later line that is not in that encoding is reported (field "encoding").
// Once a bad line is found, each is called no more, but reading goes on to
// the end so that the *FileError lists every problem (at most MaxProblems,
// then a count of the rest). An error from each stops the read and is
// returned as is.
func ReadUsage(r io.Reader, chunkRows int, each func(chunk []billing.UsageRecord) error) (UsageRead, error) {
	if chunkRows <= 0 {
		chunkRows = DefaultChunkRows
	}
	p := usageReader{br: bufio.NewReaderSize(r, 256<<10), chunk: make([]billing.UsageRecord, 0, chunkRows), each: each}
	err := p.run()
	read := UsageRead{Encoding: p.encoding(), Rows: p.rows, Lines: p.line}
	if err != nil {
		return read, err
	}
	if len(p.problems) > 0 {
		if p.dropped > 0 {
			p.problems = append(p.problems, Problem{Line: p.line, Field: "file",
				Reason: fmt.Sprintf("%d more problems are not listed; fix the lines above and send the file again to see them", p.dropped)})
		}
		return read, &FileError{Encoding: read.Encoding, Problems: p.problems}
	}
	return read, nil
}

type usageReader struct {
	br       *bufio.Reader
	chunk    []billing.UsageRecord
	each     func([]billing.UsageRecord) error
	enc      string // "" until a non-ASCII line decides
	line     int
	rows     int
	problems []Problem
	dropped  int
	long     []byte
	sjis     *encoding.Decoder
}

func (p *usageReader) encoding() string {
	if p.enc == "" {
		return EncodingUTF8
	}
	return p.enc
}

func (p *usageReader) problem(pr Problem) {
	if len(p.problems) >= MaxProblems {
		p.dropped++
		return
	}
	p.problems = append(p.problems, pr)
}

func (p *usageReader) bad() bool { return len(p.problems) > 0 || p.dropped > 0 }

// next returns the next raw line without its line end, or io.EOF. The slice
// is valid until the following call.
func (p *usageReader) next() ([]byte, error) {
	b, err := p.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = p.br.ReadSlice('\n')
			if len(p.long) <= maxLineBytes {
				p.long = append(p.long, b...)
			}
		}
		b = p.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	p.line++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, nil
}

func (p *usageReader) run() error {
	header := false
	for {
		raw, err := p.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if p.line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		start := p.line
		if len(raw) > maxLineBytes {
			p.problem(Problem{Line: start, Field: "row", Reason: fmt.Sprintf("the line is longer than %d bytes", maxLineBytes)})
			continue
		}
		text, ok := p.decode(raw)
		if !ok {
			continue
		}
		// A quoted field may hold a line break (RFC 4180): join lines
		// until the quotes balance.
		for strings.Count(text, `"`)%2 == 1 {
			more, err := p.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			t, ok := p.decode(more)
			if !ok {
				break
			}
			text += "\n" + t
		}
		if !header {
			header = true
			if text != UsageHeader {
				if f := p.fields(text, start); f == nil || strings.Join(f, ",") != UsageHeader {
					p.problem(Problem{Line: 1, Field: "header", Reason: "the first line must be exactly " + UsageHeader})
				}
			}
			continue
		}
		if text == "" {
			continue
		}
		row := p.fields(text, start)
		if row == nil {
			continue
		}
		if len(row) != 9 {
			p.problem(Problem{Line: start, Field: "row", Reason: fmt.Sprintf("%d fields; a usage line has 9", len(row))})
			continue
		}
		u, ps := parseRow(start, row)
		if len(ps) > 0 {
			for _, pr := range ps {
				p.problem(pr)
			}
			continue
		}
		if p.bad() {
			continue
		}
		p.chunk = append(p.chunk, u)
		p.rows++
		if len(p.chunk) == cap(p.chunk) {
			if err := p.flush(); err != nil {
				return err
			}
		}
	}
	if p.line == 0 {
		p.problem(Problem{Line: 1, Field: "header", Reason: "the file is empty"})
	}
	if p.bad() {
		return nil
	}
	return p.flush()
}

func (p *usageReader) flush() error {
	if len(p.chunk) == 0 || p.each == nil {
		p.chunk = p.chunk[:0]
		return nil
	}
	err := p.each(p.chunk)
	p.chunk = p.chunk[:0]
	return err
}

// decode turns one raw line into text in the file's encoding, deciding the
// encoding at the first line beyond ASCII; a line that cannot be decoded
// is reported.
func (p *usageReader) decode(raw []byte) (string, bool) {
	ascii := true
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(raw), true
	}
	if p.enc == "" {
		p.enc = EncodingShiftJIS
		if utf8.Valid(raw) {
			p.enc = EncodingUTF8
		}
	}
	if p.enc == EncodingUTF8 {
		if !utf8.Valid(raw) {
			p.problem(Problem{Line: p.line, Field: "encoding", Reason: "bytes that are not UTF-8 in a file whose earlier lines are UTF-8; re-export the file as UTF-8 or Shift_JIS"})
			return "", false
		}
		return string(raw), true
	}
	if p.sjis == nil {
		p.sjis = japanese.ShiftJIS.NewDecoder()
	}
	out, err := p.sjis.Bytes(raw)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		p.problem(Problem{Line: p.line, Field: "encoding", Reason: "bytes that are neither UTF-8 nor Shift_JIS; re-export the file as UTF-8 or Shift_JIS"})
		return "", false
	}
	return string(out), true
}

// fields splits one line (or quoted multi-line record) into its fields; a
// CSV syntax error is reported and answers nil.
func (p *usageReader) fields(text string, line int) []string {
	if !strings.Contains(text, `"`) {
		return strings.Split(text, ",")
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	row, err := r.Read()
	if err == nil {
		if _, err2 := r.Read(); !errors.Is(err2, io.EOF) {
			err = errors.New("a quoted field is not closed before the end of the line")
		}
	}
	if err != nil {
		p.problem(Problem{Line: line, Field: "csv", Reason: err.Error()})
		return nil
	}
	return row
}

func parseRow(line int, row []string) (billing.UsageRecord, []Problem) {
	var ps []Problem
	at := func(field, s string) time.Time {
		t, err := parseTime(strings.TrimSpace(s))
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

// parseTime reads UsageTimeLayout in Japan time: a direct read of the
// fixed-width digits, falling back to time.ParseInLocation (same answers,
// same errors) for anything else.
func parseTime(s string) (time.Time, error) {
	if len(s) == 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':' {
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, ok4 := digits(s[11:13])
		mi, ok5 := digits(s[14:16])
		se, ok6 := digits(s[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59 &&
			d <= time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			return time.Date(y, time.Month(mo), d, h, mi, se, 0, domain.Tokyo), nil
		}
	}
	return time.ParseInLocation(UsageTimeLayout, s, domain.Tokyo)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
