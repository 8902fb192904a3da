package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/test/pcsctest"
	"github.com/gantry-etc/gantry/test/pgtest"
	"github.com/gantry-etc/gantry/test/vcard"
)

// `gantry station` against a served Gantry, real pcscd and a virtual staff
// card: readers, enrol, login (card-only: GANTRY_FACE=off).
func TestStationCommand(t *testing.T) {
	d := pcsctest.Start(t)
	cfg := app.Config{DatabaseURL: pgtest.URL(t), HTTPAddr: "127.0.0.1:0", Bus: "sql", PollEvery: 5 * time.Millisecond, EDIDir: t.TempDir(),
		SMTPAddr: "127.0.0.1:1", PublicURL: "http://gantry.test", TokenTTL: time.Hour,
		Extra: map[string]string{"GANTRY_BOOTSTRAP_ADMIN": "root:bootstrap-password", "GANTRY_BCRYPT_COST": "4", "GANTRY_FACE": "off"}}
	cfg.TestKeys()
	a, err := app.Build(cfg, commands.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := a.Start(ctx)
	srv := httptest.NewServer(a.API.Echo())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; a.Close() })
	post := func(path, token string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; ; i++ { // the first requests may meet migrations still running
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			res.Body.Close()
			if res.StatusCode < 300 {
				return m
			}
			if res.StatusCode != 503 || i > 100 {
				t.Fatalf("%s: %d %v", path, res.StatusCode, m)
			}
			time.Sleep(50 * time.Millisecond)
			req, _ = http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
		}
	}
	root := post("/v1/auth/staff/login", "", map[string]string{"staff_id": "root", "password": "bootstrap-password"})["token"].(string)
	post("/v1/admin/staff", root, map[string]string{"staff_id": "st-C", "store_id": "store-C", "role": "store_staff", "password": "pass-st-C-long"})
	d.Insert(t, vcard.NewStaffCard([]byte{0xC1, 0, 0, 0, 0, 0, 0, 1}, "8642"))

	run := func(in string, args ...string) (string, error) {
		var out bytes.Buffer
		err := stationCmd(context.Background(), append([]string{"-url", srv.URL, "-wait", "5s"}, args...), strings.NewReader(in), &out)
		return out.String(), err
	}
	out, err := run("", "readers")
	if err != nil || !strings.Contains(out, pcsctest.Reader) {
		t.Fatalf("readers: %q %v", out, err)
	}
	t.Setenv("GANTRY_TOKEN", root)
	if out, err = run("8642\n", "enrol", "st-C"); err != nil || !strings.Contains(out, "C100000000000001 enrolled to st-C") {
		t.Fatalf("enrol: %q %v", out, err)
	}
	if _, err = run("0000\n", "login"); err == nil || !strings.Contains(err.Error(), "2 tries left") {
		t.Fatalf("login with a wrong PIN: %v", err)
	}
	t.Setenv("GANTRY_CARD_PIN", "8642")
	out, err = run("", "login")
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.API.Tokens().Verify(strings.TrimSpace(out))
	if err != nil || p.Subject != "st-C" || p.Store != "store-C" {
		t.Fatalf("login printed %q: %+v %v", out, p, err)
	}
}
