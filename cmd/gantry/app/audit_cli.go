package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"time"

	"github.com/gantry-etc/gantry/commands"
	cmdaudit "github.com/gantry-etc/gantry/commands/audit"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/audit"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

// AuditHistoryUsage documents gantry audit history.
const AuditHistoryUsage = `gantry audit history STREAM [--as-of T] [--state] --reason R
    a stream's events (or with --state the aggregate's state) as of T (RFC 3339 or YYYY-MM-DD, the end of that Tokyo day); the read is recorded with its reason`

// auditSubcommands are the sub-commands of "gantry audit". The transparency
// log's export and verify add their entries here.
func auditSubcommands() map[string]CLIFunc {
	return map[string]CLIFunc{"history": AuditHistoryCLI, "export": AuditExportCLI} // audit verify runs offline (OfflineCLI)
}

// AuditCLI runs "gantry audit SUB …".
func AuditCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	if len(args) >= 2 {
		if f, ok := auditSubcommands()[args[1]]; ok {
			return f(ctx, a, args, out)
		}
	}
	return errors.New("usage: " + AuditHistoryUsage)
}

// AuditHistoryCLI prints a stream's history (JSON lines, one event a line)
// or its state as of an instant, after recording the read as the operator
// ("cli:" + $USER).
func AuditHistoryCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("gantry audit history", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asOf := fs.String("as-of", "", "instant (RFC 3339) or Tokyo date YYYY-MM-DD")
	reason := fs.String("reason", "", "why you read this (required, recorded)")
	state := fs.Bool("state", false, "print the aggregate's state instead of its events")
	var stream string
	rest := args[2:]
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		stream, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil || stream == "" || fs.NArg() != 0 {
		return errors.New("usage: " + AuditHistoryUsage)
	}
	var at time.Time
	if *asOf != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, *asOf); err != nil {
			d, derr := domain.ParseDate(*asOf)
			if derr != nil {
				return errors.New("--as-of must be RFC 3339 or YYYY-MM-DD")
			}
			at = d.AddDays(1).Start().Add(-time.Nanosecond)
		}
	}
	ctx = commands.WithMetadata(ctx, es.Metadata{CorrelationID: "cli", Actor: es.Actor{Role: "operator_admin", ID: "cli:" + os.Getenv("USER")}})
	query, params := audit.QueryStreamEvents, map[string]string{}
	if *state {
		query = audit.QueryStreamState
	}
	if *asOf != "" {
		params["as_of"] = *asOf
	}
	if _, err := (cmdaudit.RecordReadHandler{Streams: a.Streams, Clock: a.Clock}).Handle(ctx, cmdaudit.RecordRead{Query: query, Target: stream, Params: params, Reason: *reason}); err != nil {
		return err
	}
	r := projaudit.Reader{Pool: a.Pool, Store: a.Store, Codec: a.Codec, Hydrate: hydrateInvoices(a.Pool)}
	enc := json.NewEncoder(out)
	if *state {
		if at.IsZero() {
			at = a.Clock.Now()
		}
		v, err := r.StateAsOf(ctx, stream, at)
		if err != nil {
			return err
		}
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	for from := int64(1); from > 0; {
		page, err := r.StreamEvents(ctx, stream, from, projaudit.MaxPage, at)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		from = page.Next
	}
	return nil
}
