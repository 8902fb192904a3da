package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/smtptest"
)

type cardsEnv struct {
	t     *testing.T
	a     *app.App
	srv   *httptest.Server
	clock *commands.ManualClock
	ctx   context.Context
	admin string
	fin   string
	inbox *smtptest.Inbox
	// last is the Gantry-Position of the last command answered; GETs send
	// it back (Gantry-After), as a client that reads its own writes does:
	// card commands answer without waiting for the views.
	last string
}

const leaseCSV = "contract,customer_name,start,end,vehicles\n" +
	"L-2026-001,株式会社 山田運輸,2026-01-01,2028-03-31,品川 300 あ 12-34;品川 300 あ 56-78;品川 300 い 90-12;品川 300 う 11-11;品川 300 う 22-22;品川 300 う 33-33;品川 300 う 44-44;品川 300 う 55-55\n"

// newCardsEnv starts Gantry on its own database; edits adjust the
// configuration first.
func newCardsEnv(t *testing.T, edits ...func(*app.Config)) *cardsEnv {
	t.Helper()
	box, smtpAddr := smtptest.Start(t)
	cfg := app.Config{DatabaseURL: pgtest.URL(t), HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: 5 * time.Millisecond,
		SMTPAddr: smtpAddr, MailFrom: "noreply@gantry.example", EDIDir: t.TempDir(),
		Extra: map[string]string{"GANTRY_RENEWAL_MAIL_TO": "cards-desk@lessor.example"}}
	cfg.TestKeys()
	cfg.TokenTTL = 400 * 24 * time.Hour
	cfg.Security.Limits = roomyCardsLimits()
	for _, edit := range edits {
		edit(&cfg)
	}
	clock := commands.NewManualClock(time.Date(2026, 11, 2, 10, 0, 0, 0, domain.Tokyo))
	a, err := app.Build(cfg, clock, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	srv := httptest.NewServer(a.API.Echo())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; a.Close() })
	e := &cardsEnv{t: t, a: a, srv: srv, clock: clock, ctx: ctx, inbox: box,
		admin: a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"}),
		fin:   a.API.Tokens().Issue(api.Principal{Role: api.RoleFinance, Subject: "fin-1"})}
	// wait for migrations
	for i := 0; ; i++ {
		r, err := http.Get(srv.URL + "/readyz")
		if err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if r != nil {
			r.Body.Close()
		}
		if i > 400 {
			t.Fatal("app not ready")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return e
}

// cli runs a cards CLI command, returning its output.
func (e *cardsEnv) cli(args ...string) (string, error) {
	var out bytes.Buffer
	err := app.CardsCLI(e.ctx, e.a, args, &out)
	return out.String(), err
}

func (e *cardsEnv) file(name, content string) string {
	p := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// do sends a request and decodes the JSON answer into out (if non-nil).
func (e *cardsEnv) do(method, path, token string, body any, out any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "text/csv"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	if method == http.MethodGet && e.last != "" {
		req.Header.Set(api.HeaderAfter, e.last)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if p := resp.Header.Get(api.HeaderPosition); p != "" {
		e.last = p
	}
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, data
}

func (e *cardsEnv) count(q string) int {
	e.t.Helper()
	var n int
	if err := e.a.Pool.QueryRow(e.ctx, q).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *cardsEnv) setup() {
	e.t.Helper()
	if out, err := e.cli("lease", "import", e.file("leases.csv", leaseCSV)); err != nil {
		e.t.Fatalf("lease import: %v %s", err, out)
	}
	if st, body := e.conclude("L-2026-001"); st != http.StatusCreated {
		e.t.Fatalf("conclude: %d %s", st, body)
	}
}

// conclude posts the ETC service contract application for a lease.
func (e *cardsEnv) conclude(lease string) (int, []byte) {
	return e.do("POST", "/v1/contracts", e.admin, map[string]any{
		"contract": lease, "customer_name": "株式会社　山田運輸", "alpha_name": "Yamada Unyu Co., Ltd.",
		"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ヤマダウンユ",
	}, nil)
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Errors []struct {
		Line   int    `json:"line"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, b []byte) problem {
	var p problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem: %s", b)
	}
	return p
}
