package progress_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/adapters/progress"
)

// Off a terminal, progress is plain log lines: one per period at most, and a
// final one with the totals.
func TestPlainLinesWhenNotATerminal(t *testing.T) {
	var logs, out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := progress.New(&out, log, "rows", 100, 0)
	r.Set(40)
	r.Set(100)
	r.Finish()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "done=40") || !strings.Contains(lines[0], "total=100") || !strings.Contains(lines[2], "msg=done") || !strings.Contains(lines[2], "done=100") {
		t.Fatalf("log lines:\n%s", logs.String())
	}
	if out.Len() != 0 {
		t.Fatalf("no bar off a terminal, got %q", out.String())
	}
	quiet := progress.New(&out, log, "rows", 0, 1<<62)
	logs.Reset()
	quiet.Set(5)
	if logs.Len() != 0 {
		t.Fatalf("a line before its period: %s", logs.String())
	}
}
