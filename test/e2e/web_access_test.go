package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/api"
)

// The access policy of the web pages, written out like accessPolicy (same
// letters): a letter means the caller gets the page (never the login
// redirect or 403), a dot means the gate refuses — anonymous callers are
// sent to the login page, other roles get 403. TestPageAccess fails for a
// page without a row.
var pagePolicy = []struct{ allow, route string }{
	{"acsdfuro", "GET /"},
	// Customer.
	{"acsdfuro", "GET /apply"},
	{"acsdfuro", "POST /apply/confirm"},
	{"acsdfuro", "POST /apply"},
	{"acsdfuro", "GET /my/login"},
	{"acsdfuro", "POST /my/login"},
	{".c......", "GET /my"},
	{".c......", "GET /my/certificate"},
	// Staff.
	{"acsdfuro", "GET /staff/login"},
	{"acsdfuro", "POST /staff/login"},
	{"acsdfuro", "POST /logout"},
	// Store management site.
	{"..sd....", "GET /store"},
	{"..sd....", "POST /store/receive"},
	{"..sd....", "GET /store/setups/:id"},
	{"..sd....", "POST /store/setups/:id/:step"},
	{"..sd....", "GET /store/certificates/:number"},
	{"..sd....", "POST /store/certificates/:number/print"},
	{"..sd....", "POST /store/certificates/:number/reissue-link"},
	{"..sd....", "GET /store/consents/new"},
	{"..sd....", "POST /store/consents"},
	{"..sd....", "GET /store/proxy/new"},
	{"..sd....", "POST /store/proxy"},
	// Auditors.
	{".....u.o", "GET /audit"},
	// Finance.
	{"....f...", "GET /finance"},
	{"....f...", "POST /finance/usage"},
	{"....f...", "POST /finance/billing"},
	{"....f...", "GET /finance/runs/:run"},
	{"....f...", "GET /finance/uploads/:run"},
	{"....f...", "GET /finance/invoices/:invoice"},
	{"....f...", "GET /finance/invoices/:invoice/pdf"},
	{"....f...", "GET /finance/invoices/:invoice/csv"},
	{"....f...", "GET /finance/reports"},
}

func TestPageAccess(t *testing.T) {
	e := start(t)
	callers := []struct {
		letter byte
		p      api.Principal
	}{
		{'a', api.Principal{}},
		{'c', api.Principal{Role: api.RoleCustomer, Subject: "AP-NOPE", Application: "AP-NOPE"}},
		{'s', api.Principal{Role: api.RoleStaff, Subject: "st1", Store: "S1"}},
		{'d', api.Principal{Role: api.RoleStoreAdmin, Subject: "sa1", Store: "S1"}},
		{'f', api.Principal{Role: api.RoleFinance, Subject: "fi1"}},
		{'u', api.Principal{Role: api.RoleAuditor, Subject: "au1"}},
		{'r', api.Principal{Role: api.RoleRegulator, Subject: "re1"}},
		{'o', api.Principal{Role: api.RoleOperatorAdmin, Subject: "op1"}},
	}
	var served []string
	for _, p := range e.a.Web.Pages() {
		served = append(served, p.Method+" "+p.Path)
	}
	var rows []string
	for _, row := range pagePolicy {
		rows = append(rows, row.route)
		if !slices.Contains(served, row.route) {
			t.Errorf("policy row %q names no page", row.route)
		}
	}
	for _, s := range served {
		if !slices.Contains(rows, s) {
			t.Errorf("page %q has no row in pagePolicy: decide who may open it", s)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	param := regexp.MustCompile(`:[a-z]+`)
	const csrf = "access-test-csrf-token-0123456789"
	for _, row := range pagePolicy {
		method, path, _ := strings.Cut(row.route, " ")
		path = param.ReplaceAllString(path, "X")
		for _, c := range callers {
			var body *strings.Reader
			if method == http.MethodPost {
				body = strings.NewReader(url.Values{"_csrf": {csrf}}.Encode())
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(method, e.srv.URL+path, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "gantry_csrf", Value: csrf})
			if c.p.Role != "" {
				req.AddCookie(&http.Cookie{Name: "gantry_session", Value: e.a.API.Tokens().Issue(c.p)})
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			loc := res.Header.Get("Location")
			toLogin := res.StatusCode == http.StatusSeeOther && (strings.HasPrefix(loc, "/my/login") || strings.HasPrefix(loc, "/staff/login"))
			// The gate redirects or answers 403; a login form's own 401
			// (wrong password) is not the gate.
			refused := toLogin || res.StatusCode == http.StatusForbidden
			allowed := strings.IndexByte(row.allow, c.letter) >= 0
			switch {
			case allowed && refused:
				t.Errorf("%s as %q: refused (%d %s), policy allows", row.route, c.p.Role, res.StatusCode, loc)
			case !allowed && c.p.Role == "" && !toLogin:
				t.Errorf("%s anonymous: %d, want a redirect to the login page", row.route, res.StatusCode)
			case !allowed && c.p.Role != "" && res.StatusCode != http.StatusForbidden:
				t.Errorf("%s as %q: %d, want 403", row.route, c.p.Role, res.StatusCode)
			}
		}
	}
}

// TestPageFormsNeedCSRF: a form sent without the CSRF token of its page is
// refused, even with a valid session.
func TestPageFormsNeedCSRF(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/apply/confirm", "/store/receive", "/logout"} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader("application_id=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "gantry_session", Value: e.a.API.Tokens().Issue(api.Principal{Role: api.RoleStaff, Subject: "st1", Store: "S1"})})
		req.AddCookie(&http.Cookie{Name: "gantry_csrf", Value: "cookie-token-aaaaaaaaaaaaaaaaaaaa"})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without the form's CSRF token: %d, want 403", path, res.StatusCode)
		}
	}
}
