package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// TestCtrlCMidImportLeavesNothing: SIGINT (Ctrl-C) to the built `gantry
// usage import` while it is loading rows of a large file (its transaction
// has written) stops it within seconds with a failure exit status, and
// leaves no usage row and no usage.file_imported event: the records and
// the event are one transaction, rolled back.
func TestCtrlCMidImportLeavesNothing(t *testing.T) {
	dbURL := pgtest.URL(t)
	s := newServer(t, dbURL, "127.0.0.1:1")
	s.start()
	leases := filepath.Join(t.TempDir(), "leases.csv")
	if err := os.WriteFile(leases, []byte("contract,customer_name,start,end,vehicles\nL-2026-001,株式会社 山田運輸,2026-01-01,2028-03-31,品川 300 あ 12-34\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cli("lease", "import", leases)
	admin := api.NewTokens([]byte("fedcba9876543210fedcba9876543210"), time.Hour, time.Now).Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"})
	post := func(path string, body map[string]string) map[string]any {
		t.Helper()
		js, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.url()+path, bytes.NewReader(js))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, res.StatusCode, out)
		}
		return out
	}
	post("/v1/contracts", map[string]string{"contract": "L-2026-001", "customer_name": "株式会社　山田運輸", "alpha_name": "Yamada Unyu Co., Ltd.",
		"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ヤマダウンユ"})
	cardNo, _ := post("/v1/cards", map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"})["card"].(string)
	if cardNo == "" {
		t.Fatal("no card issued")
	}
	s.stop() // the import alone writes from now on

	// A file that takes seconds to load.
	const rows = 600_000
	var b strings.Builder
	b.WriteString("record_id,operator,card_number,vehicle,entry_ic,entry_at,exit_ic,exit_at,toll\n")
	for i := range rows {
		day, minute := 1+i%28, i%1440
		fmt.Fprintf(&b, "C-%d,NEXCO-E,%s,品川 300 あ 12-34,東京,2026-10-%02d %02d:%02d:00,厚木,2026-10-%02d %02d:%02d:30,%d\n",
			i, cardNo, day, minute/60, minute%60, day, minute/60, minute%60, 100+i%900)
	}
	file := filepath.Join(t.TempDir(), "usage-big.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cmd := exec.Command(s.bin, "usage", "import", file)
	cmd.Env = s.env
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Wait until the import's transaction has written rows (it holds a
	// transaction ID), then press Ctrl-C.
	for deadline := time.Now().Add(2 * time.Minute); count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`) == 0; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the import ended before it was interrupted (%v):\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import wrote nothing within 2 minutes:\n%s", stderr.String())
		}
	}
	time.Sleep(300 * time.Millisecond)
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err == nil {
			t.Fatalf("the interrupted import exited 0:\n%s", stderr.String())
		}
		t.Logf("Ctrl-C: the import stopped %s after the signal (%v)", time.Since(interrupted).Round(time.Millisecond), err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the import did not stop within 30 s of Ctrl-C:\n%s", stderr.String())
	}
	if out := stderr.String(); strings.Contains(out, "panic") || !strings.Contains(out, "context canceled") {
		t.Fatalf("the interrupted import says:\n%s", out)
	}
	if n := count(`SELECT count(*) FROM usage_records`); n != 0 {
		t.Fatalf("%d usage rows left after Ctrl-C, want none", n)
	}
	if n := count(`SELECT count(*) FROM events WHERE type = 'usage.file_imported'`); n != 0 {
		t.Fatalf("%d usage.file_imported events after Ctrl-C, want none", n)
	}
}
