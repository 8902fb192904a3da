package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gantry-etc/gantry/domain"
)

// Invoice events commit to their detail lines instead of embedding them
// (events stay under 64 KiB: a month of a large contract is thousands of
// lines). The lines live, immutably, in a line store beside the log, written
// in the same transaction as the event; the event holds a Commitment: their
// count, a SHA-256 over their canonical form, and the usage records they
// bill.
//
// Canonical form (what the hash covers, and what the line store keeps):
//   - each line is the encoding/json encoding of Line (keys in the order of
//     its fields, empty optional fields left out, no spaces, HTML characters
//     escaped as encoding/json does) with its times in Japan time
//     (RFC 3339, "+09:00"), as CanonicalLine returns;
//   - lines in invoice-detail order (the order of Statement.Lines), each
//     followed by one newline (0x0A);
//   - SHA-256 over the whole, written as 64 lowercase hex digits.
//
// So a verifier needs only the stored line texts: concatenate them in order,
// each with "\n", and compare sha256sum with the event's commitment
// (docs/invoice-lines.md shows it in SQL).

// LinePart names one set of lines of a document: an invoice's lines, or an
// adjustment's removed and added lines.
type LinePart string

// Line parts (stored on disk).
const (
	PartLines   LinePart = "lines"
	PartRemoved LinePart = "removed"
	PartAdded   LinePart = "added"
)

// Commitment fixes a set of lines without holding them.
type Commitment struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
	// Usage names the usage records the toll lines bill: per road operator,
	// how many, and the smallest and largest record ID (string order). The
	// exact records are the toll lines' (operator, record_id), fixed by the
	// hash.
	Usage []UsageRange `json:"usage,omitempty"`
}

// UsageRange is the usage records of one road operator in a line set.
type UsageRange struct {
	Operator string `json:"operator"`
	First    string `json:"first"`
	Last     string `json:"last"`
	Count    int    `json:"count"`
}

// DocumentLines is one stored line set: a document (invoice or adjustment
// number), which part, and its lines in order.
type DocumentLines struct {
	Document InvoiceNumber
	Part     LinePart
	Lines    []Line
}

// ErrLinesAltered: stored lines do not match the event's commitment (the
// line store was changed behind the log, or lines are missing).
var ErrLinesAltered = errors.New("billing: stored invoice lines do not match the event's commitment")

// CanonicalLine is the canonical bytes of one line (see above).
func CanonicalLine(l Line) []byte { return appendCanonical(make([]byte, 0, 384), l) }

// appendCanonical appends exactly what encoding/json writes for l (with its
// times in Japan time), without reflection: a billing run encodes every
// line twice (hash and line store). TestCanonicalLineIsEncodingJSON holds
// it to encoding/json's bytes; a year outside 0-9999 goes through the
// reference encoder.
func appendCanonical(b []byte, l Line) []byte {
	if !l.EntryAt.IsZero() {
		l.EntryAt = l.EntryAt.In(domain.Tokyo)
	}
	if !l.ExitAt.IsZero() {
		l.ExitAt = l.ExitAt.In(domain.Tokyo)
	}
	for _, t := range []time.Time{l.EntryAt, l.ExitAt} {
		if y := t.Year(); !t.IsZero() && (y < 0 || y > 9999) {
			return append(b, referenceCanonical(l)...)
		}
	}
	b = append(b, `{"key":`...)
	b = appendJSONString(b, l.Key)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(l.Kind))
	b = append(b, `,"card":`...)
	b = appendJSONString(b, l.Card.String())
	b = append(b, `,"vehicle":`...)
	b = appendJSONString(b, l.Vehicle.String())
	if l.Operator != "" {
		b = append(b, `,"operator":`...)
		b = appendJSONString(b, l.Operator)
	}
	if l.RecordID != "" {
		b = append(b, `,"record_id":`...)
		b = appendJSONString(b, l.RecordID)
	}
	if !l.UsageDate.IsZero() {
		b = append(b, `,"usage_date":`...)
		b = appendJSONString(b, l.UsageDate.String())
	}
	if l.EntryIC != "" {
		b = append(b, `,"entry_ic":`...)
		b = appendJSONString(b, l.EntryIC)
	}
	if !l.EntryAt.IsZero() {
		b = append(b, `,"entry_at":"`...)
		b = append(l.EntryAt.AppendFormat(b, time.RFC3339Nano), '"')
	}
	if l.ExitIC != "" {
		b = append(b, `,"exit_ic":`...)
		b = appendJSONString(b, l.ExitIC)
	}
	if !l.ExitAt.IsZero() {
		b = append(b, `,"exit_at":"`...)
		b = append(l.ExitAt.AppendFormat(b, time.RFC3339Nano), '"')
	}
	if l.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, string(l.Reason))
	}
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, int64(l.Amount), 10)
	b = append(b, `,"tax_rate":`...)
	b = strconv.AppendInt(b, int64(l.TaxRate), 10)
	return append(b, '}')
}

// appendJSONString writes s quoted as encoding/json does: verbatim when it
// needs no escape, else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	plain, ascii := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if plain && !ascii && (!utf8.ValidString(s) || strings.ContainsRune(s, '\u2028') || strings.ContainsRune(s, '\u2029')) {
		plain = false
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, err := json.Marshal(s)
	if err != nil { // a string always encodes
		panic(err)
	}
	return append(b, q...)
}

// referenceCanonical is the definition: encoding/json of the line with its
// times in Japan time.
func referenceCanonical(l Line) []byte {
	if !l.EntryAt.IsZero() {
		l.EntryAt = l.EntryAt.In(domain.Tokyo)
	}
	if !l.ExitAt.IsZero() {
		l.ExitAt = l.ExitAt.In(domain.Tokyo)
	}
	b, err := json.Marshal(l)
	if err != nil { // Line holds only strings, numbers, dates and times
		panic(err)
	}
	return b
}

// HashLines is the SHA-256 (hex) over canonical lines, each followed by a
// newline.
func HashLines(canonical [][]byte) string {
	h := sha256.New()
	for _, b := range canonical {
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Commit returns the commitment to lines (in their order).
func Commit(lines []Line) Commitment {
	canon := make([][]byte, len(lines))
	ranges := map[string]*UsageRange{}
	var ops []string
	for i, l := range lines {
		canon[i] = CanonicalLine(l)
		if l.Kind != KindToll {
			continue
		}
		r := ranges[l.Operator]
		if r == nil {
			r = &UsageRange{Operator: l.Operator, First: l.RecordID, Last: l.RecordID}
			ranges[l.Operator] = r
			ops = append(ops, l.Operator)
		}
		r.Count++
		r.First, r.Last = min(r.First, l.RecordID), max(r.Last, l.RecordID)
	}
	c := Commitment{Count: len(lines), SHA256: HashLines(canon)}
	slices.Sort(ops)
	for _, op := range ops {
		c.Usage = append(c.Usage, *ranges[op])
	}
	return c
}

// Verify checks lines against the commitment.
func (c Commitment) Verify(lines []Line) error {
	if len(lines) != c.Count {
		return fmt.Errorf("%w: %d lines, the event commits to %d", ErrLinesAltered, len(lines), c.Count)
	}
	if got := Commit(lines).SHA256; got != c.SHA256 {
		return fmt.Errorf("%w: SHA-256 %s, the event commits to %s", ErrLinesAltered, got, c.SHA256)
	}
	return nil
}

// IsZero reports whether c is the zero commitment (an event that predates
// commitments and was not upcast).
func (c Commitment) IsZero() bool { return c.SHA256 == "" }

// ReadLines reads one stored line set (the line store, behind a port).
type ReadLines func(doc InvoiceNumber, part LinePart) ([]Line, error)

// Hydrate gives an invoice event its detail lines, read through read and
// checked against the event's commitments: InvoiceIssued and
// AdjustmentIssued come from the log without their lines; other events are
// returned as they are. An event upcast from before commitments still holds
// its lines, which are checked too and nothing is read.
func Hydrate(e domain.Event, read ReadLines) (domain.Event, error) {
	fill := func(doc InvoiceNumber, part LinePart, c Commitment, have []Line) ([]Line, error) {
		if have == nil && c.Count > 0 {
			var err error
			if have, err = read(doc, part); err != nil {
				return nil, err
			}
		}
		if have == nil {
			have = []Line{}
		}
		if err := c.Verify(have); err != nil {
			return nil, fmt.Errorf("%s %s: %w", doc, part, err)
		}
		return have, nil
	}
	var err error
	switch ev := e.(type) {
	case InvoiceIssued:
		if ev.Statement.Lines, err = fill(ev.Invoice, PartLines, ev.Lines, ev.Statement.Lines); err != nil {
			return nil, err
		}
		return ev, nil
	case AdjustmentIssued:
		if ev.Removed, err = fill(ev.Adjustment, PartRemoved, ev.RemovedLines, ev.Removed); err != nil {
			return nil, err
		}
		if ev.Added, err = fill(ev.Adjustment, PartAdded, ev.AddedLines, ev.Added); err != nil {
			return nil, err
		}
		return ev, nil
	}
	return e, nil
}
