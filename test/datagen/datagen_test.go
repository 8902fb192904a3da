package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// The data set, small (10 contracts, 1,000 cards, 20,000 usage rows), end
// to end: the generated leases through gantry lease import, contracts and
// cards over HTTP, the usage file (for the numbers answered) through gantry
// usage import, which takes every row.
func TestDataSetEndToEnd(t *testing.T) {
	s := Spec{Contracts: 10, Cards: 1000, Rows: 20_000, Month: mustMonth(t, "2026-11"), Prefix: "91234", FirstSerial: 1, Seed: 13}
	dir := t.TempDir()
	predicted, err := s.Predicted()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFiles(dir, predicted); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, UsageFile(s.Month)))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := edi.ParseUsage(data); err != nil || len(f.Records) != s.Rows {
		t.Fatalf("generated usage file: %d records, %v", len(f.Records), err)
	}

	cfg := app.Config{DatabaseURL: pgtest.URL(t), HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: 5 * time.Millisecond,
		SMTPAddr: "127.0.0.1:1", MailFrom: "noreply@gantry.example", EDIDir: t.TempDir()}
	cfg.TestKeys()
	cfg.TokenTTL = 400 * 24 * time.Hour
	clock := commands.NewManualClock(time.Date(2026, 11, 2, 10, 0, 0, 0, domain.Tokyo))
	a, err := app.Build(cfg, clock, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	srv := httptest.NewServer(a.API.Echo())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; a.Close() })
	for i := 0; ; i++ {
		r, err := http.Get(srv.URL + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if i > 400 {
			t.Fatal("app not ready")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cli := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := app.CardsCLI(ctx, a, args, &out); err != nil {
			t.Fatalf("gantry %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	cli("lease", "import", filepath.Join(dir, "leases.csv"))
	token := a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "datagen"})
	var report bytes.Buffer
	if err := s.Post(&report, dir, srv.URL, token, 8); err != nil {
		t.Fatal(err)
	}
	t.Log(report.String())
	issued, err := ReadCardList(filepath.Join(dir, "issued.csv"))
	if err != nil || len(issued) != s.Cards {
		t.Fatalf("%d cards issued, want %d (%v)", len(issued), s.Cards, err)
	}
	// Issued in parallel, the numbers are not in file order: the usage
	// file is written for the numbers answered (datagen usage -card-list).
	f, err := os.Create(filepath.Join(dir, UsageFile(s.Month)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteUsage(f, issued); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var res cmdcards.UsageImportResult
	out := cli("usage", "import", filepath.Join(dir, UsageFile(s.Month)))
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Rows != s.Rows || res.Imported != s.Rows || len(res.UnknownCards) != 0 || res.Duplicate {
		t.Fatalf("usage import: %+v", res)
	}
	var n int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_records`).Scan(&n); err != nil || n != s.Rows {
		t.Fatalf("%d usage records (%v), want %d", n, err, s.Rows)
	}
}

func mustMonth(t *testing.T, s string) money.YearMonth {
	m, err := money.ParseYearMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
