package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// Gantry's own connections carry idle-in-transaction and statement
// timeouts, so that Gantry can never be the long transaction that holds
// global-log delivery back; both are configurable.
func TestPoolConnectionsHaveTimeouts(t *testing.T) {
	box, addr := smtptest.Start(t)
	for _, c := range []struct {
		extra         map[string]string
		idle, stmtout string
	}{
		{nil, "30s", "5min"},
		{map[string]string{"GANTRY_PG_IDLE_TX_TIMEOUT": "2s", "GANTRY_PG_STATEMENT_TIMEOUT": "1m"}, "2s", "1min"},
	} {
		e := startWith(t, box, func(cfg *app.Config) {
			cfg.SMTPAddr = addr
			for k, v := range c.extra {
				cfg.Extra[k] = v
			}
		})
		ctx := context.Background()
		var idle, stmt string
		if err := e.a.Pool.QueryRow(ctx, `SELECT current_setting('idle_in_transaction_session_timeout'), current_setting('statement_timeout')`).Scan(&idle, &stmt); err != nil {
			t.Fatal(err)
		}
		if idle != c.idle || stmt != c.stmtout {
			t.Fatalf("settings %v: idle_in_transaction_session_timeout %s, statement_timeout %s; want %s, %s", c.extra, idle, stmt, c.idle, c.stmtout)
		}
	}
	// An idle transaction of Gantry's own pool is ended by the server.
	e := startWith(t, box, func(cfg *app.Config) {
		cfg.SMTPAddr = addr
		cfg.Extra["GANTRY_PG_IDLE_TX_TIMEOUT"] = "300ms"
	})
	ctx := context.Background()
	tx, err := e.a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT txid_current()`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := tx.Exec(ctx, `SELECT 1`); err == nil {
		t.Fatal("a transaction left idle for 1 s was not ended (timeout 300ms)")
	}
}
