package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/api"
)

// The card and invoice lists page like every list: ?limit= up to 500,
// ?cursor= from the Link rel="next", none on the last page.
func TestCardsListsPage(t *testing.T) {
	e := newCardsEnv(t)
	e.setup()
	vehicles := []string{"品川 300 あ 12-34", "品川 300 あ 56-78", "品川 300 い 90-12", "品川 300 う 11-11", "品川 300 う 22-22"}
	for _, v := range vehicles {
		if st, body := e.do("POST", "/v1/cards", e.admin, map[string]string{"contract": "L-2026-001", "vehicle": v, "card_type": "BLUE01"}, nil); st != 201 {
			t.Fatalf("issue for %s: %d %s", v, st, body)
		}
	}
	get := func(path string) (int, []byte, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		token := e.admin
		if strings.HasPrefix(path, "/v1/invoices") {
			token = e.fin
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(api.HeaderAfter, e.last) // the cards issued above
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b, res.Header.Get("Link")
	}
	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	seen := map[string]bool{}
	var sizes []int
	for path := "/v1/cards?contract=L-2026-001&limit=2"; path != ""; {
		st, body, link := get(path)
		if st != 200 {
			t.Fatalf("%s: %d %s", path, st, body)
		}
		var rows []map[string]any
		_ = json.Unmarshal(body, &rows)
		sizes = append(sizes, len(rows))
		for _, r := range rows {
			if seen[r["card"].(string)] {
				t.Fatalf("card %s on two pages", r["card"])
			}
			seen[r["card"].(string)] = true
		}
		path = ""
		if m := next.FindStringSubmatch(link); m != nil {
			if !strings.Contains(m[1], "contract=L-2026-001") {
				t.Fatalf("the next link drops the filter: %s", m[1])
			}
			path = m[1]
		} else if link != "" {
			t.Fatalf("Link header %q", link)
		}
		if len(sizes) > 5 {
			t.Fatal("the next links never end")
		}
	}
	if len(seen) != len(vehicles) || len(sizes) != 3 {
		t.Fatalf("pages %v with %d cards; want 2, 2, 1 with all %d", sizes, len(seen), len(vehicles))
	}
	for _, path := range []string{"/v1/cards?limit=501", "/v1/invoices?limit=501"} {
		st, body, _ := get(path)
		if p := decodeProblem(t, body); st != 400 || p.Code != "page_size_too_large" || !strings.Contains(string(body), "500") {
			t.Fatalf("%s: %d %s; want 400 page_size_too_large naming 500", path, st, body)
		}
	}
	if st, body, link := get("/v1/invoices?limit=500"); st != 200 || link != "" {
		t.Fatalf("invoices: %d %s, link %q; want one page, no next link", st, body, link)
	}
}
