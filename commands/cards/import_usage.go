package cards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// ImportUsage imports one road operator usage file (docs/usage-format.md).
type ImportUsage struct {
	Name string
	Data []byte
}

// UsageImportResult says what an import did.
type UsageImportResult struct {
	SHA256       string   `json:"sha256"`
	Encoding     string   `json:"encoding"`
	Rows         int      `json:"rows"`
	Imported     int      `json:"imported"`
	AlreadyKnown int      `json:"already_known"`
	UnknownCards []string `json:"unknown_cards"`
	// Duplicate: this exact file was imported before; nothing was done.
	Duplicate bool        `json:"duplicate"`
	Position  es.Position `json:"-"`
}

// UsageParser reads a whole usage file (adapters/edi.UsageParser). Any bad
// line rejects the file with a *UsageFileError listing every bad line.
type UsageParser interface {
	ParseUsage(data []byte) (encoding string, records []billing.UsageRecord, err error)
}

// UsageLoad is what a UsageStore did with a file's records.
type UsageLoad struct {
	Imported     int      // new records
	AlreadyKnown int      // records whose (operator, record id) was loaded before
	UnknownCards []string // sorted card numbers never issued (their rows are left out)
}

// UsageStore loads usage records in one transaction, all or nothing
// (adapters/cardsdb.UsageStore): rows of cards never issued are left out
// and reported, records known before are skipped.
type UsageStore interface {
	LoadUsage(ctx context.Context, records []billing.UsageRecord, fileSHA256 string) (UsageLoad, error)
}

// UsageFileError rejects a usage file: one entry per bad line; nothing was
// imported.
type UsageFileError struct {
	Encoding string
	Problems []UsageLineProblem
}

// UsageLineProblem is one bad field of a usage file: the 1-based line, the
// column, why.
type UsageLineProblem struct {
	Line   int
	Field  string
	Reason string
}

func (e *UsageFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage file rejected (%s):", e.Encoding)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  line %d %s: %s", p.Line, p.Field, p.Reason)
	}
	return b.String()
}

// ImportUsageHandler runs ImportUsage: the whole file is parsed first (any
// bad line rejects it with a *UsageFileError and nothing is written), then
// the store loads every row in one transaction. Finally
// usage.file_imported is recorded in the stream of the file's hash (a
// second import of the same bytes stops at that check; records loaded
// twice by a race are skipped by their identity).
type ImportUsageHandler struct {
	Streams EventStreams
	Parser  UsageParser
	Store   UsageStore
	Clock   commands.Clock
}

func (h ImportUsageHandler) Handle(ctx context.Context, cmd ImportUsage) (UsageImportResult, error) {
	sum := sha256.Sum256(cmd.Data)
	hash := hex.EncodeToString(sum[:])
	stream := UsageFileStream(hash)
	var seen bool
	v, err := h.Streams.Load(ctx, stream, func(domain.Event) { seen = true })
	if err != nil {
		return UsageImportResult{}, err
	}
	if seen {
		return UsageImportResult{SHA256: hash, Duplicate: true}, nil
	}
	enc, records, err := h.Parser.ParseUsage(cmd.Data)
	if err != nil {
		return UsageImportResult{}, err
	}
	load, err := h.Store.LoadUsage(ctx, records, hash)
	if err != nil {
		return UsageImportResult{}, err
	}
	if load.UnknownCards == nil {
		load.UnknownCards = []string{}
	}
	res := UsageImportResult{SHA256: hash, Encoding: enc, Rows: len(records), Imported: load.Imported, AlreadyKnown: load.AlreadyKnown, UnknownCards: load.UnknownCards}
	ev := billing.UsageFileImported{SHA256: hash, Name: cmd.Name, Encoding: enc, Rows: res.Rows, Imported: res.Imported,
		AlreadyKnown: res.AlreadyKnown, UnknownCards: res.UnknownCards, ImportedOn: domain.DateOf(h.Clock.Now())}
	ar, err := h.Streams.Append(ctx, stream, v, ev)
	if errors.Is(err, es.ErrWrongExpectedVersion) {
		return UsageImportResult{SHA256: hash, Duplicate: true}, nil
	}
	if err != nil {
		return UsageImportResult{}, err
	}
	res.Position = ar.Position
	return res, nil
}
