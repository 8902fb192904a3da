package e2e

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The audit consent lists page like every list: walked two rows a page by
// their next links (the Link header and the body's next agree), they give
// every row once, in the order of the unpaged answer; a bad limit or cursor
// is a 400 problem.
func TestAudit_consent_lists_page(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	aud := e.staff("aud-1", "", "auditor")
	ids := []string{"C-PG-3", "C-PG-1", "C-PG-5", "C-PG-2", "C-PG-4"}
	for _, id := range ids {
		e.must(201, e.do("POST", "/v1/consents", staff, "", consent(id, "2026-04-01", 3, "2026-04-01", "2026-06-30", proxyApplicant)))
	}
	e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("C-PG-2")))
	aud = e.login("aud-1")

	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	type listed struct {
		Consents []struct {
			ConsentID string `json:"consent_id"`
		} `json:"consents"`
		Changes []struct {
			Change string `json:"change"`
			State  struct {
				ConsentID   string `json:"consent_id"`
				StateNumber int    `json:"state_number"`
			} `json:"state"`
		} `json:"changes"`
		Next string `json:"next"`
	}
	keys := func(l listed) []string {
		var out []string
		for _, c := range l.Consents {
			out = append(out, c.ConsentID)
		}
		for _, c := range l.Changes {
			out = append(out, c.State.ConsentID+"#"+c.Change)
		}
		return out
	}
	walk := func(path string, q url.Values) (all []string, sizes []int) {
		t.Helper()
		q.Set("reason", "annual audit 2026")
		var whole listed
		if err := json.Unmarshal(e.must(200, e.do("GET", path+"?"+q.Encode(), aud, "", nil)).body, &whole); err != nil || whole.Next != "" {
			t.Fatalf("%s unpaged: %v, next %q", path, err, whole.Next)
		}
		q.Set("limit", "2")
		for p := path + "?" + q.Encode(); p != ""; {
			if len(sizes) > 10 {
				t.Fatalf("%s: the next links never end", path)
			}
			r := e.must(200, e.do("GET", p, aud, "", nil))
			var page listed
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			all = append(all, keys(page)...)
			sizes = append(sizes, len(keys(page)))
			p = ""
			if m := next.FindStringSubmatch(r.link); m != nil {
				if m[1] != page.Next || !strings.Contains(m[1], "store=store-A") || !strings.Contains(m[1], "limit=2") {
					t.Fatalf("%s: Link %q and next %q disagree or drop the query", path, r.link, page.Next)
				}
				p = m[1]
			} else if r.link != "" || page.Next != "" {
				t.Fatalf("%s: Link %q, next %q", path, r.link, page.Next)
			}
		}
		if strings.Join(all, ",") != strings.Join(keys(whole), ",") {
			t.Fatalf("%s walked %v, want %v once each in order", path, all, keys(whole))
		}
		return all, sizes
	}

	held, sizes := walk("/v1/audit/consents", url.Values{"store": {"store-A"}, "date": {"2026-04-01"}})
	if strings.Join(held, ",") != "C-PG-1,C-PG-2,C-PG-3,C-PG-4,C-PG-5" || len(sizes) != 3 {
		t.Errorf("consents held: %v in pages %v; want all 5 by ID in pages of 2, 2, 1", held, sizes)
	}
	changed, sizes := walk("/v1/audit/consents/changes", url.Values{"store": {"store-A"}, "from": {"2026-04-01"}, "to": {"2026-04-30"}})
	if len(changed) != 6 || len(sizes) != 3 || !strings.Contains(strings.Join(changed, ","), "C-PG-2#unit_used") {
		t.Errorf("changes: %v in pages %v; want 5 recordings and a unit used in pages of 2", changed, sizes)
	}

	for _, route := range []string{"/v1/audit/consents?store=store-A&date=2026-04-01&reason=x", "/v1/audit/consents/changes?store=store-A&from=2026-04-01&to=2026-04-30&reason=x"} {
		p := e.problem(e.do("GET", route+"&limit=501", aud, "", nil), 400, "page_size_too_large")
		if !strings.Contains(p.Detail, "500") {
			t.Errorf("%s: the problem does not say the maximum: %q", route, p.Detail)
		}
		e.problem(e.do("GET", route+"&limit=0", aud, "", nil), 400, "invalid_page_size")
		e.problem(e.do("GET", route+"&cursor=forged", aud, "", nil), 400, "invalid_cursor")
	}
	// A well-formed cursor whose key is not a recorded time.
	e.problem(e.do("GET", "/v1/audit/consents/changes?store=store-A&from=2026-04-01&to=2026-04-30&reason=x&cursor=WyJ4IiwieSIsInoiXQ", aud, "", nil), 400, "invalid_cursor")
}
