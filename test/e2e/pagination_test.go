package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every list route pages: ?limit= (default 100, at most 500) and ?cursor=
// from the previous answer's `Link: <…>; rel="next"`; the last page has no
// link, and a limit over the maximum is a 400 that says the maximum.
func TestLists_page_with_a_next_link(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	const n = 5
	want := map[string]bool{}
	for i := range n {
		app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
		want[app["application_id"].(string)] = true
		if i%2 == 0 {
			e.clock.Advance(time.Minute) // pairs share a completion time: the ID breaks the tie
		}
	}
	e.inbox.Wait(t, n)
	staff = e.login("st-1")
	auditor := e.staff("au-1", "", "auditor")

	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	path := "/v1/views/applications/awaiting?limit=2"
	seen := map[string]bool{}
	var sizes []int
	for pages := 0; path != ""; pages++ {
		if pages > n {
			t.Fatal("the next links never end")
		}
		r := e.must(200, e.do("GET", path, auditor, "", nil))
		var rows []map[string]any
		if err := json.Unmarshal(r.body, &rows); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(rows))
		for _, row := range rows {
			id := row["application_id"].(string)
			if seen[id] {
				t.Fatalf("%s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if r.link != "" {
			m := next.FindStringSubmatch(r.link)
			if m == nil || !strings.Contains(m[1], "limit=2") || !strings.Contains(m[1], "cursor=") {
				t.Fatalf("Link header %q: want <…?cursor=…&limit=2>; rel=\"next\"", r.link)
			}
			path = m[1]
		}
	}
	if len(seen) != n || len(sizes) != 3 || sizes[2] != 1 {
		t.Fatalf("pages %v with %d applications; want 2, 2, 1 with all %d and no link on the last", sizes, len(seen), n)
	}

	for _, route := range []string{"/v1/views/applications/awaiting", "/v1/views/applications/received", "/v1/views/setups", "/v1/views/consents", "/v1/views/issuance"} {
		p := e.problem(e.do("GET", route+"?limit=501", auditor, "", nil), 400, "page_size_too_large")
		if !strings.Contains(p.Detail, "500") {
			t.Fatalf("%s: the problem does not say the maximum: %q", route, p.Detail)
		}
		e.problem(e.do("GET", route+"?limit=0", auditor, "", nil), 400, "invalid_page_size")
		e.problem(e.do("GET", route+"?cursor=forged", auditor, "", nil), 400, "invalid_cursor")
		if r := e.must(200, e.do("GET", route+"?limit=500", staff, "", nil)); r.link != "" {
			t.Fatalf("%s: a next link on the only page: %q", route, r.link)
		}
	}
}
