package app_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// redoclyVersion is the pinned @redocly/cli that scripts/deps.sh installs
// into .local/redocly (make test runs deps.sh first).
const redoclyVersion = "2.77.0"

// TestOpenAPILint runs `redocly lint` (recommended rules) on the whole
// /openapi.json of the wired app and requires zero errors; warnings are
// logged.
func TestOpenAPILint(t *testing.T) {
	redocly, err := filepath.Abs("../../../.local/redocly/node_modules/.bin/redocly")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(redocly, "--version").Output(); err != nil || strings.TrimSpace(string(out)) != redoclyVersion {
		t.Fatalf("@redocly/cli %s is not installed at %s (%v, %q): run scripts/deps.sh, which make test runs", redoclyVersion, redocly, err, out)
	}
	doc, err := json.Marshal(buildApp(t).API.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redocly, "lint", file, "--format=json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // exit status 1 when there are errors; the report says which
	var report struct {
		Totals struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("redocly lint gave no JSON report: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, p := range report.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		if p.Severity == "error" {
			t.Errorf("%s %s: %s", p.RuleID, where, p.Message)
		} else {
			t.Logf("%s %s %s: %s", p.Severity, p.RuleID, where, p.Message)
		}
	}
	if report.Totals.Errors != 0 {
		t.Errorf("redocly lint: %d errors, %d warnings", report.Totals.Errors, report.Totals.Warnings)
	}
}
