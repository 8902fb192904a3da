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

// walkPages follows path's Link rel="next" headers to the end and returns
// every page's rows (each row as its JSON object) and the page sizes.
func (e *cardsEnv) walkPages(t *testing.T, path, token string) (rows []map[string]any, sizes []int) {
	t.Helper()
	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	for path != "" {
		if len(sizes) > 20 {
			t.Fatalf("%s: the next links never end", path)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(api.HeaderAfter, e.last)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var page []map[string]any
		if res.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		rows, sizes = append(rows, page...), append(sizes, len(page))
		link := res.Header.Get("Link")
		path = ""
		if m := next.FindStringSubmatch(link); m != nil {
			path = m[1]
		} else if link != "" {
			t.Fatalf("Link header %q", link)
		}
	}
	return rows, sizes
}

// checkBillingListsPage walks the billing totals and both customer reports
// of the end-to-end month one row a page: every row once, in the order of
// the one-page answer; a bad limit or cursor is a 400 problem. The report
// CSV stays one download.
func checkBillingListsPage(t *testing.T, e *cardsEnv) {
	t.Helper()
	// Two earlier months in the totals view, so that the totals span pages.
	if _, err := e.a.Pool.Exec(e.ctx, `INSERT INTO proj_invoices.documents VALUES
		('INV-PG-1', 'invoice', 'INV-PG-1', 'L-PG', 'x', '2026-09', '2026-10-01', 1, 0, 0, 1),
		('INV-PG-2', 'invoice', 'INV-PG-2', 'L-PG', 'x', '2026-10', '2026-11-01', 2, 0, 0, 2)`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := e.a.Pool.Exec(e.ctx, `DELETE FROM proj_invoices.documents WHERE contract = 'L-PG'`); err != nil {
			t.Fatal(err)
		}
	}()
	for _, tc := range []struct {
		path, key string
		want      int
	}{
		{"/v1/billing-totals", "period", 3},
		{"/v1/reports/L-2026-001/2026-11/non-business-day-usage", "record_id", 2},
		{"/v1/reports/L-2026-001/2026-11/other-vehicle-usage", "record_id", 1},
	} {
		whole, sizes := e.walkPages(t, tc.path+"?limit=500", e.fin)
		if len(sizes) != 1 || len(whole) != tc.want {
			t.Fatalf("%s: %d rows in pages %v, want %d on one page", tc.path, len(whole), sizes, tc.want)
		}
		walked, sizes := e.walkPages(t, tc.path+"?limit=1", e.fin)
		if len(sizes) != tc.want {
			t.Errorf("%s?limit=1: pages %v, want %d of one row", tc.path, sizes, tc.want)
		}
		var got, want []string
		for _, r := range walked {
			got = append(got, r[tc.key].(string))
		}
		for _, r := range whole {
			want = append(want, r[tc.key].(string))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s walked %v, want %v once each in order", tc.path, got, want)
		}
		for q, code := range map[string]string{"limit=501": "page_size_too_large", "limit=0": "invalid_page_size", "cursor=forged": "invalid_cursor",
			"cursor=WyJ4IiwieSIsInoiXQ": "invalid_cursor"} {
			if tc.path == "/v1/billing-totals" && q == "cursor=WyJ4IiwieSIsInoiXQ" {
				continue // any month text is a key there
			}
			st, body := e.do("GET", tc.path+"?"+q, e.fin, nil, nil)
			if p := decodeProblem(t, body); st != 400 || p.Code != code {
				t.Errorf("%s?%s: %d %s; want 400 %s", tc.path, q, st, body, code)
			}
		}
	}
	if got := e.walkPagesCSV(t); !strings.Contains(got, "R-5") || !strings.Contains(got, "R-3") {
		t.Errorf("the non-business-day CSV with limit=1 is not the whole report: %s", got)
	}
}

// walkPagesCSV reads the non-business-day report as CSV with limit=1: the
// CSV is the whole report, one download.
func (e *cardsEnv) walkPagesCSV(t *testing.T) string {
	t.Helper()
	st, body := e.do("GET", "/v1/reports/L-2026-001/2026-11/non-business-day-usage?format=csv&limit=1", e.fin, nil, nil)
	if st != 200 {
		t.Fatalf("csv: %d %s", st, body)
	}
	return string(body)
}
