package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gantry-etc/gantry/adapters/lease"
	"github.com/gantry-etc/gantry/adapters/progress"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/money"
)

// CardsCLIUsage lists the card and billing sub-commands.
const CardsCLIUsage = `gantry lease import FILE.csv     load leases into the local lease registry (header ` + lease.CSVHeader + `)
gantry usage import FILE         import a road operator usage CSV (docs/usage-format.md)
gantry billing run YYYY-MM       bill every contract for the month (re-running changes nothing)`

// CardsCLI runs the card and billing sub-commands: args[0] is "lease",
// "usage" or "billing". Results are printed as JSON; a rejected usage file
// prints its per-line report and returns an error. The database must be
// migrated (main does that before calling).
func CardsCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	f := a.Cards()
	if f == nil {
		return errors.New("the cards feature is not wired")
	}
	ctx = commands.WithMetadata(ctx, es.Metadata{CorrelationID: "cli", Actor: es.Actor{Role: "operator_admin", ID: "cli"}})
	if len(args) < 2 {
		return errors.New(CardsCLIUsage)
	}
	switch args[0] + " " + args[1] {
	case "lease import":
		if len(args) != 3 {
			return errors.New("usage: gantry lease import FILE.csv")
		}
		in, err := os.Open(args[2])
		if err != nil {
			return err
		}
		defer in.Close()
		n, err := f.Leases.Import(ctx, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported %d leases\n", n)
		return nil
	case "usage import":
		if len(args) != 3 {
			return errors.New("usage: gantry usage import FILE")
		}
		in, err := os.Open(args[2])
		if err != nil {
			return err
		}
		defer in.Close()
		var size int64
		if st, err := in.Stat(); err == nil {
			size = st.Size()
		}
		// Progress on stderr (a bar on a terminal, log lines otherwise), in
		// bytes of the file read; Ctrl-C cancels ctx, which rolls the one
		// transaction back: nothing is written.
		bar := progress.New(os.Stderr, a.Log, "bytes", size, 5*time.Second)
		body := &countingReader{r: in}
		res, err := f.Service.Usage.Handle(ctx, cmdcards.ImportUsage{Name: filepath.Base(args[2]), Body: body,
			Progress: func(int) { bar.Set(body.n.Load()) }})
		bar.Finish()
		var fe *cmdcards.UsageFileError
		if errors.As(err, &fe) {
			fmt.Fprintln(out, fe.Error())
			return fmt.Errorf("usage file rejected: %d problems, nothing imported", len(fe.Problems))
		}
		if err != nil {
			return err
		}
		return printJSON(out, res)
	case "billing run":
		if len(args) != 3 {
			return errors.New("usage: gantry billing run YYYY-MM")
		}
		m, err := money.ParseYearMonth(args[2])
		if err != nil {
			return err
		}
		if !a.ready.Load() {
			// Standalone CLI: catch the views up while the run waits on them.
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); a.Runner.Run(rctx) }()
			defer func() { cancel(); <-done }()
		}
		// Progress per contract on stderr (a bar on a terminal, log lines
		// otherwise); Ctrl-C stops between contracts, each invoice whole.
		bar := progress.New(os.Stderr, a.Log, "contracts", 0, 5*time.Second)
		res, _, err := f.Service.Billing.Handle(ctx, cmdcards.RunBilling{Month: m, Progress: func(done, total int) { bar.SetTotal(int64(total)); bar.Set(int64(done)) }})
		bar.Finish()
		if err != nil {
			return err
		}
		return printJSON(out, res)
	}
	return errors.New(CardsCLIUsage)
}

// countingReader counts the bytes read through it (for progress).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
