package cards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
)

// ImportUsage imports one road operator usage file (docs/usage-format.md),
// read from Body as a stream: memory stays bounded whatever its size.
type ImportUsage struct {
	Name string
	Body io.Reader
	// Progress, when set, is told the records handed to the loader so far
	// after each chunk (the CLI's progress bar); the loader may still be
	// loading the last of them.
	Progress func(rows int)
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

// UsageReader reads a usage file as a stream (adapters/edi.UsageReader),
// handing each chunk of valid records to each (the slice is reused: each
// must not keep it). Any bad line rejects the file with a *UsageFileError
// listing the bad lines; after the first one each is called no more. An
// error from each stops the read and is returned.
type UsageReader interface {
	ReadUsage(r io.Reader, each func(chunk []billing.UsageRecord) error) (encoding string, rows int, err error)
}

// UsageLoad is what a UsageStore did with a file's records.
type UsageLoad struct {
	Imported     int      // new records
	AlreadyKnown int      // records whose (operator, record id) was loaded before
	UnknownCards []string // sorted card numbers never issued (their rows are left out)
}

// UsageLoader loads records inside an import's transaction: rows of cards
// never issued are left out and reported, records known before skipped.
type UsageLoader interface {
	Load(ctx context.Context, records []billing.UsageRecord) error
	// Result is what the loads so far did.
	Result() UsageLoad
}

// UsageStore runs one import as ONE transaction (adapters/cardsdb.UsageStore):
// fill loads the file's records through the UsageLoader and returns the
// events that record the import; they are appended in the same transaction
// (commands.AppendWithin). Records and events commit together or not at
// all: an error from fill, or a wrong expected version, writes nothing, and
// a keyed command appended before gets Duplicate results with nothing kept.
type UsageStore interface {
	Import(ctx context.Context, fill func(ctx context.Context, l UsageLoader) ([]commands.StreamEvents, error)) ([]es.AppendResult, error)
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

// ImportUsageHandler runs ImportUsage in one pass over the file, inside
// one transaction: the reader parses it line by line and each chunk of
// valid records is loaded (COPY) as it comes, while the file's SHA-256 is
// computed; at the end usage.file_imported is appended to the stream of
// that hash, expecting no stream, in the same transaction. So:
//   - a bad line rejects the file with a *UsageFileError (every bad line)
//     and nothing is written;
//   - a file imported before (its stream exists) is answered Duplicate
//     and nothing is written;
//   - a cancelled ctx (Ctrl-C) stops the read and writes nothing;
//   - a retry of a keyed command that committed answers the first import's
//     counts, from its event, and writes nothing.
type ImportUsageHandler struct {
	Streams EventStreams
	Reader  UsageReader
	Store   UsageStore
	Clock   commands.Clock
}

func (h ImportUsageHandler) Handle(ctx context.Context, cmd ImportUsage) (UsageImportResult, error) {
	sum := sha256.New()
	body := io.TeeReader(cmd.Body, sum)
	var res UsageImportResult
	out, err := h.Store.Import(ctx, func(ctx context.Context, l UsageLoader) ([]commands.StreamEvents, error) {
		loaded := 0
		enc, rows, err := h.Reader.ReadUsage(body, func(chunk []billing.UsageRecord) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := l.Load(ctx, chunk); err != nil {
				return err
			}
			loaded += len(chunk)
			if cmd.Progress != nil {
				cmd.Progress(loaded)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		load := l.Result()
		if load.UnknownCards == nil {
			load.UnknownCards = []string{}
		}
		res = UsageImportResult{SHA256: hex.EncodeToString(sum.Sum(nil)), Encoding: enc, Rows: rows, Imported: load.Imported,
			AlreadyKnown: load.AlreadyKnown, UnknownCards: load.UnknownCards}
		ev := billing.UsageFileImported{SHA256: res.SHA256, Name: cmd.Name, Encoding: enc, Rows: rows, Imported: res.Imported,
			AlreadyKnown: res.AlreadyKnown, UnknownCards: res.UnknownCards, ImportedOn: domain.DateOf(h.Clock.Now())}
		return []commands.StreamEvents{{Stream: UsageFileStream(res.SHA256), Expected: int64(es.NoStream), Events: []domain.Event{ev}}}, nil
	})
	var wv *es.WrongVersionError
	if errors.As(err, &wv) && res.SHA256 != "" && wv.Stream == UsageFileStream(res.SHA256) {
		// This exact file was imported before.
		return UsageImportResult{SHA256: res.SHA256, Duplicate: true}, nil
	}
	if err != nil {
		return UsageImportResult{}, err
	}
	if len(out) == 1 && out[0].Duplicate {
		return h.replay(ctx, res.SHA256, out[0])
	}
	if len(out) > 0 {
		res.Position = out[0].Position
	}
	return res, nil
}

// replay answers a retried keyed import that committed before with what
// the first run recorded.
func (h ImportUsageHandler) replay(ctx context.Context, hash string, first es.AppendResult) (UsageImportResult, error) {
	res := UsageImportResult{SHA256: hash, UnknownCards: []string{}, Position: first.Position}
	// The whole stream, the command's own event included.
	_, err := h.Streams.Load(commands.WithCommand(ctx, nil), UsageFileStream(hash), func(e domain.Event) {
		if ev, ok := e.(billing.UsageFileImported); ok {
			res.Encoding, res.Rows, res.Imported, res.AlreadyKnown = ev.Encoding, ev.Rows, ev.Imported, ev.AlreadyKnown
			if ev.UnknownCards != nil {
				res.UnknownCards = ev.UnknownCards
			}
		}
	})
	return res, err
}
