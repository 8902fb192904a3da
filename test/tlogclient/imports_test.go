package tlogclient

import (
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyTheSpecLibraries keeps the client independent of Gantry.
func TestImportsOnlyTheSpecLibraries(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "client.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if strings.Contains(p, ".") && p != "golang.org/x/mod/sumdb/tlog" && p != "golang.org/x/mod/sumdb/note" {
			t.Errorf("the independent client imports %s", p)
		}
	}
}
