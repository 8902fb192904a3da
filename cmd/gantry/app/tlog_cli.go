package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/adapters/progress"
	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/domain"
)

// OfflineCLI runs the log commands that need neither configuration nor the
// database: `log keygen ORIGIN`, `log key` (from GANTRY_LOG_KEY, passed in
// as skey) and `audit verify BUNDLE …`. handled is false for any other
// command.
func OfflineCLI(args []string, skey string, out io.Writer) (handled bool, err error) {
	switch {
	case len(args) >= 2 && args[0] == "log" && args[1] == "keygen":
		if len(args) != 3 {
			return true, errors.New("usage: gantry log keygen ORIGIN (the log's name, a schema-less URL such as gantry.example/log)")
		}
		s, v, err := tlog.GenerateKey(args[2])
		if err != nil {
			return true, err
		}
		fmt.Fprintf(out, "%s\n# verifier key: %s\n", s, v)
		return true, nil
	case len(args) == 2 && args[0] == "log" && args[1] == "key":
		if skey == "" {
			return true, errors.New("GANTRY_LOG_KEY is not set")
		}
		s, err := tlog.NewSigner(skey)
		if err != nil {
			return true, err
		}
		fmt.Fprintln(out, s.VerifierKey())
		return true, nil
	case len(args) >= 2 && args[0] == "audit" && args[1] == "verify":
		return true, auditVerify(args[2:], out)
	}
	return false, nil
}

func auditVerify(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(out)
	vkey := fs.String("vkey", "", "the log's verifier key as you know it (default: the key inside the bundle, which proves less)")
	later := fs.String("checkpoint", "", "a later signed checkpoint FILE the bundle's must be a prefix of")
	logURL := fs.String("log", "", "the log's URL prefix (e.g. https://gantry.example/v1/log), to fetch the consistency proof to --checkpoint")
	bundle, rest := "", args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		bundle, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if bundle == "" && fs.NArg() == 1 {
		bundle = fs.Arg(0)
	}
	if bundle == "" {
		return errors.New("usage: gantry audit verify BUNDLE [--vkey KEY] [--checkpoint FILE [--log URL]]")
	}
	f, err := os.Open(bundle)
	if err != nil {
		return err
	}
	defer f.Close()
	chk := tlog.BundleCheck{VerifierKey: strings.TrimSpace(*vkey), LogURL: *logURL}
	if *later != "" {
		if chk.Later, err = os.ReadFile(*later); err != nil {
			return err
		}
	}
	rep, err := tlog.VerifyBundle(f, chk)
	if err != nil {
		fmt.Fprintf(out, "FAILED: %v\n", err)
		return fmt.Errorf("bundle %s does not verify", bundle)
	}
	fmt.Fprintf(out, "VERIFIED %s:\n", bundle)
	for _, l := range rep.Lines {
		fmt.Fprintln(out, "  "+l)
	}
	return nil
}

// AuditExportCLI runs `gantry audit export [--subject S] [--store S] [--from
// D] [--to D] [-o FILE]` (dates in Asia/Tokyo, to exclusive).
func AuditExportCLI(ctx context.Context, a *App, args []string, out io.Writer) error {
	if len(args) < 2 || args[1] != "export" {
		return errors.New("usage: gantry audit export [--subject S] [--store S] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [-o FILE] | gantry audit verify BUNDLE")
	}
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(out)
	subject := fs.String("subject", "", "data subject (application ID, consent ID, contract number)")
	store := fs.String("store", "", "store ID")
	from := fs.String("from", "", "first day (Asia/Tokyo) or RFC 3339 time")
	to := fs.String("to", "", "day after the last (Asia/Tokyo) or RFC 3339 time")
	file := fs.String("o", "", "write the bundle to FILE (default: standard output)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	q := tlog.ExportQuery{Subject: *subject, Store: *store}
	var err error
	if q.From, err = cliInstant(*from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if q.To, err = cliInstant(*to); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if q.Subject == "" && q.Store == "" && q.From.IsZero() && q.To.IsZero() {
		return errors.New("say what to export: --subject, --store, or --from/--to")
	}
	l := a.TLog()
	if l == nil {
		return errors.New("the transparency log is not wired")
	}
	bar := progress.New(os.Stderr, a.Log, "log entries", 0, 5*time.Second)
	x := l.Exporter
	x.Progress = func(scanned, total int64) {
		bar.SetTotal(total)
		bar.Set(scanned)
	}
	var sum tlog.ExportSummary
	if *file == "" {
		sum, err = x.Export(ctx, q, out)
	} else {
		sum, err = x.ExportFile(ctx, q, *file)
	}
	bar.Finish()
	if ctx.Err() != nil {
		return fmt.Errorf("audit export stopped: %w; no bundle written", ctx.Err())
	}
	if err != nil {
		return err
	}
	if *file != "" {
		fmt.Fprintf(out, "wrote %s: %d events, proofs against checkpoint %s size %d\n", *file, sum.Events, sum.Checkpoint.Origin, sum.Checkpoint.Size)
	}
	return nil
}

func cliInstant(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, domain.Tokyo); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// VerifyLog is the log half of `gantry verify [--checkpoints DIR|URL]
// [--vkey KEY]`: the events rebuild exactly the stored log, and the tree is
// consistent with every checkpoint stored, in DIR (default
// GANTRY_CHECKPOINT_DIR), or at URL (one signed checkpoint, e.g. a
// witness's copy). It prints the result and reports whether the log
// is intact.
func VerifyLog(ctx context.Context, a *App, args []string, out io.Writer) (bool, error) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(out)
	dir := fs.String("checkpoints", a.Config.Extra["GANTRY_CHECKPOINT_DIR"], "directory of signed checkpoints kept outside the database, or the URL of one")
	vkey := fs.String("vkey", "", "the log's verifier key (default: derived from GANTRY_LOG_KEY)")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	var err error
	key := strings.TrimSpace(*vkey)
	if key == "" {
		l := a.TLog()
		if l == nil {
			return false, errors.New("no verifier key: set GANTRY_LOG_KEY or pass --vkey")
		}
		key = l.Signer.VerifierKey()
	}
	var files []tlog.CheckpointFile
	if strings.HasPrefix(*dir, "http://") || strings.HasPrefix(*dir, "https://") {
		note, err := fetchCheckpoint(ctx, *dir)
		if err != nil {
			return false, err
		}
		files = []tlog.CheckpointFile{{Path: *dir, Note: note}}
	} else if files, err = tlog.ReadCheckpointDir(*dir); err != nil {
		return false, err
	}
	res, err := tlog.VerifyLog(ctx, a.Pool, key, files)
	if err != nil {
		return false, err
	}
	fmt.Fprintln(out, res)
	return res.Intact, nil
}

func fetchCheckpoint(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<16))
}
