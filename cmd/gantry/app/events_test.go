package app_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/audit"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// TestEventTypesMatchCodec: the event types the domain packages list
// (EventTypes, which their JSON round-trip tests cover) are exactly the
// types the wired codec can decode. A type stored but not listed would
// escape the round-trip tests; a type listed but not registered could not
// be replayed.
func TestEventTypesMatchCodec(t *testing.T) {
	a := buildApp(t)
	var listed []string
	for _, types := range [][]string{audit.EventTypes(), application.EventTypes(), setup.EventTypes(), certificate.EventTypes(),
		contract.EventTypes(), card.EventTypes(), billing.EventTypes()} {
		listed = append(listed, types...)
	}
	slices.Sort(listed)
	if d := slices.Compact(slices.Clone(listed)); len(d) != len(listed) {
		t.Errorf("a type is listed twice: %v", listed)
	}
	registered := slices.Sorted(slices.Values(a.Registry.Types()))
	for _, typ := range listed {
		if !slices.Contains(registered, typ) {
			t.Errorf("%s is in a domain package's EventTypes() but the codec cannot decode it", typ)
		}
	}
	for _, typ := range registered {
		if !slices.Contains(listed, typ) {
			t.Errorf("%s can be stored but no domain package's EventTypes() lists it", typ)
		}
	}
}

// buildApp wires the whole app on its own database, without starting it.
func buildApp(t *testing.T) *app.App {
	t.Helper()
	cfg := app.Config{DatabaseURL: pgtest.URL(t), HTTPAddr: "127.0.0.1:0", Bus: "sql"}
	cfg.TestKeys()
	a, err := app.Build(cfg, commands.NewManualClock(time.Now()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}
