// Command gantry runs and operates Gantry.
//
//	gantry serve                      run the HTTP API, projectors, bus and scheduler
//	gantry migrate                    apply database migrations
//	gantry projections status         each projector's checkpoint, state and lag
//	gantry projections rebuild NAME   rebuild a projector into fresh tables, swap atomically
//	gantry verify [--checkpoints DIR|URL] walk every stream's hash chain; rebuild the transparency log from the events and check it against every signed checkpoint
//	gantry log key | log keygen ORIGIN print the log's verifier key | make a log signing key
//	gantry audit export …             write an audit-export bundle (docs/audit-export.md)
//	gantry audit verify BUNDLE …      check a bundle offline
//	gantry lease|usage|billing …      cards and billing operations
//	gantry privacy report SUBJECT     where a data subject's data lives, and whether it is erased
//	gantry station …                  the store station (card reader; see docs/cards.md)
//
// Configuration comes from the environment (see README and app.Config).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/adapters/progress"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/projections"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "gantry:", err)
		os.Exit(1)
	}
}

const usage = `usage: gantry serve | migrate | verify [--checkpoints DIR|URL] | projections status | projections rebuild NAME | lease import FILE | usage import FILE | billing run YYYY-MM | log key | log keygen ORIGIN | audit history STREAM [--as-of T] [--state] --reason R | audit export … | audit verify BUNDLE … | station … | privacy report SUBJECT`

func run(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	if args[0] == "station" { // runs on the store PC: no database, no server keys
		return stationCmd(ctx, args[1:], os.Stdin, out)
	}
	if handled, err := app.OfflineCLI(args, os.Getenv("GANTRY_LOG_KEY"), out); handled {
		return err
	}
	cfg, err := app.FromEnv()
	if err != nil {
		return err
	}
	a, err := app.Build(cfg, commands.SystemClock{}, log)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "serve":
		return serve(ctx, a, log)
	case "migrate":
		return postgres.Migrate(ctx, a.Pool, log)
	case "verify":
		res, err := postgres.Verify(ctx, a.Pool)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, res)
		if !res.Intact {
			return errors.New("hash chain broken")
		}
		intact, err := app.VerifyLog(ctx, a, args[1:], out)
		if err != nil {
			return err
		}
		if !intact {
			return errors.New("transparency log broken")
		}
		return nil
	case "projections":
		return projectionsCmd(ctx, a, args[1:], out, log)
	default:
		if cli, ok := app.CLI(args[0]); ok {
			if err := postgres.Migrate(ctx, a.Pool, nil); err != nil {
				return err
			}
			return cli(ctx, a, args, out)
		}
		return errors.New(usage)
	}
}

func projectionsCmd(ctx context.Context, a *app.App, args []string, out io.Writer, log *slog.Logger) error {
	if err := postgres.Migrate(ctx, a.Pool, nil); err != nil {
		return err
	}
	switch {
	case len(args) == 1 && args[0] == "status":
		st, err := projections.StoredStatus(ctx, a.Pool, a.Store)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PROJECTOR\tSTATE\tCHECKPOINT\tLAG EVENTS\tLAG SECONDS\tERROR")
		for _, s := range st {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%.1f\t%s\n", s.Name, s.State, s.Checkpoint, s.LagEvents, s.LagSeconds, s.Error)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		h, err := a.Horizon(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, h)
		return err
	case len(args) == 2 && args[0] == "rebuild":
		if args[1] == tlog.SequencerName {
			return errors.New("the transparency log is never rebuilt: it is append-only (gantry verify checks it against the events)")
		}
		if args[1] == bus.OutboxName {
			return errors.New("the outbox is never rebuilt: replaying it would send every message again")
		}
		for _, p := range a.Runner.Projectors() {
			if p.Name() == args[1] {
				start := time.Now()
				total, err := projections.ToReplay(ctx, a.Pool, p)
				if err != nil {
					return err
				}
				bar := progress.New(os.Stderr, log, "events", total, 5*time.Second)
				pos, err := projections.Rebuild(ctx, a.Pool, a.Store, a.Codec, p, bar.Set)
				bar.Finish()
				if ctx.Err() != nil {
					return fmt.Errorf("rebuild of %s stopped: the live tables are untouched", p.Name())
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "rebuilt %s up to %s in %s; swapped in\n", p.Name(), pos, time.Since(start).Round(time.Millisecond))
				return nil
			}
		}
		return fmt.Errorf("no projector named %q", args[1])
	}
	return errors.New(usage)
}

func serve(ctx context.Context, a *app.App, log *slog.Logger) error {
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return err
	}
	// Timeouts (app.HTTPServer, README): the request head within 5 s, the
	// whole request within 30 s (a trickled body is cut), the answer within
	// 2 min (PDFs, billing runs), idle keep-alive connections closed after
	// 2 min; request headers at most 32 KiB.
	srv := a.HTTPServer()
	bg, cancelBG := context.WithCancel(context.Background())
	done := a.Start(bg)
	fmt.Printf("Gantry API listening on http://%s (OpenAPI: /openapi.json, health: /readyz)\n", ln.Addr())
	fmt.Printf("Web pages: customer http://%[1]s/apply (a store's QR: /apply?store=ID), status http://%[1]s/my/login, staff http://%[1]s/staff/login → store site /store\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	// Metrics and the detailed health answers: a private listener.
	if addr := a.Config.Security.OpsAddr; addr != "" && addr != "off" {
		oln, err := net.Listen("tcp", addr)
		if err != nil {
			srv.Close()
			cancelBG()
			<-done
			return fmt.Errorf("GANTRY_OPS_ADDR: %w", err)
		}
		ops := a.OpsServer()
		defer ops.Close()
		log.Info("ops endpoints listening", "addr", oln.Addr().String())
		go func() {
			if err := ops.Serve(oln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		cancelBG()
		<-done
		return err
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	cancelBG() // projectors finish their batch and commit their checkpoints
	<-done
	log.Info("stopped")
	return err
}
