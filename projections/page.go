package projections

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// Page sizes of every list: a request without a size gets DefaultPageSize
// rows, and no page holds more than MaxPageSize.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// PageRequest asks for one page of a list in the list's stable order: Size
// rows (1..MaxPageSize) after the row whose sort key is After (nil: from
// the start). Readers use keyset pagination: After is compared with the
// sort columns, so a row inserted meanwhile neither repeats nor shifts a
// page.
type PageRequest struct {
	Size  int
	After []string
}

// FirstPage is the first page of DefaultPageSize rows.
var FirstPage = PageRequest{Size: DefaultPageSize}

// ErrBadCursor: a cursor that this server did not write.
var ErrBadCursor = errors.New("the cursor is not one this server gave out; start again without it")

// ParsePage builds a PageRequest from a cursor ("" for the first page) and
// a size (0 for the default). Sizes out of range and foreign cursors are
// errors; the caller says which as a 400.
func ParsePage(cursor string, size int) (PageRequest, error) {
	if size == 0 {
		size = DefaultPageSize
	}
	p := PageRequest{Size: size}
	if cursor == "" {
		return p, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &p.After) != nil || len(p.After) == 0 {
		return PageRequest{}, ErrBadCursor
	}
	return p, nil
}

// Limit is the LIMIT of the page's query: one row more than the page, so
// that Paginate knows whether a next page exists.
func (p PageRequest) Limit() int { return p.Size + 1 }

// Key is the i-th value of After, or "" on the first page (queries test
// an empty key as "no lower bound").
func (p PageRequest) Key(i int) string {
	if i >= len(p.After) {
		return ""
	}
	return p.After[i]
}

// Page is one page of a list and the opaque cursor of the next one ("" on
// the last page).
type Page[T any] struct {
	Items []T
	Next  string
}

// Paginate cuts rows (read with p.Limit()) to the page and, when there was
// one row more, makes the cursor from the sort key of the page's last row.
func Paginate[T any](p PageRequest, rows []T, key func(T) []string) Page[T] {
	if rows == nil {
		rows = []T{}
	}
	if len(rows) <= p.Size {
		return Page[T]{Items: rows}
	}
	rows = rows[:p.Size]
	b, _ := json.Marshal(key(rows[len(rows)-1]))
	return Page[T]{Items: rows, Next: base64.RawURLEncoding.EncodeToString(b)}
}
