// Package archtest checks the direction of imports between Gantry's layers
// (README "Map"): dependencies point inward, adapters sit outside.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gantry-etc/gantry"

// rule forbids packages under From to depend, directly or through other
// packages, on any package under one of To. stdOnly instead allows only the
// standard library and From itself.
type rule struct {
	from    string
	to      []string
	stdOnly bool
	why     string
}

var rules = []rule{
	{from: "domain", stdOnly: true, why: "business rules import only the standard library"},
	{from: "commands", to: []string{"adapters", "api", "cmd"}, why: "commands declare ports; adapters implement them and cmd/ wires them"},
	{from: "projections", to: []string{"api", "cmd"}, why: "readers serve the API, not the other way round"},
	{from: "api", to: []string{"adapters"}, why: "HTTP handlers translate to commands and readers only"},
	{from: "web", to: []string{"adapters"}, why: "web pages translate forms to the same commands and readers as the API"},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

// TestImportDirection lists every violation (package and forbidden
// dependency, direct or transitive), not just the first.
func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; is the module root right?", len(pkgs))
	}
	checked := map[string]int{}
	for _, p := range pkgs {
		for _, r := range rules {
			if !under(p.ImportPath, r.from) {
				continue
			}
			checked[r.from]++
			for _, d := range p.Deps {
				if bad(d, r) {
					t.Errorf("%s depends on %s: %s", strings.TrimPrefix(p.ImportPath, module+"/"), d, r.why)
				}
			}
		}
	}
	for _, r := range rules {
		if checked[r.from] == 0 {
			t.Errorf("no package under %s/ was checked", r.from)
		}
	}
}

func bad(dep string, r rule) bool {
	if r.stdOnly {
		first, _, _ := strings.Cut(dep, "/")
		return strings.Contains(first, ".") && !under(dep, r.from)
	}
	for _, to := range r.to {
		if under(dep, to) {
			return true
		}
	}
	return false
}

// under reports whether import path p is the module folder dir or inside it.
func under(p, dir string) bool {
	full := module + "/" + dir
	return p == full || strings.HasPrefix(p, full+"/")
}

// The rule itself must be able to fail.
func TestImportRuleCatches(t *testing.T) {
	cases := []struct {
		dep  string
		r    rule
		want bool
	}{
		{"fmt", rules[0], false},
		{module + "/domain/card", rules[0], false},
		{"github.com/jackc/pgx/v5", rules[0], true},
		{module + "/adapters/edi", rules[1], true},
		{module + "/projections/cards", rules[1], false},
		{module + "/apix", rules[3], false},
		{module + "/adapters", rules[3], true},
	}
	for _, c := range cases {
		if got := bad(c.dep, c.r); got != c.want {
			t.Errorf("%s under rule %s: %v, want %v", c.dep, c.r.from, got, c.want)
		}
	}
}
