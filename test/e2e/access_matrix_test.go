package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// The access policy, written out: one row per operation of the API, one
// column per kind of caller. A letter means the caller may call it (the
// answer is never 401/403); a dot means the gate refuses (401 without a
// token, 403 for a wrong role). The table is deliberately not derived from
// the route table: TestAccessMatrix checks the server, and the x-roles that
// /openapi.json documents, against it, and fails for an operation without a
// row — a new endpoint needs a decision here.
//
//	a anonymous    c customer     s store_staff   d store_admin
//	f finance      u auditor      r regulator     o operator_admin
//
// Who does what: customers their own application (login by ID + passcode or
// the mailed link); store staff and store admins setups of their own store
// (tablet and store PC); finance billing, invoices and customer reports;
// the operator admin accounts, stores, reception unlocks and card contracts;
// auditors proxy-consent history and the store views; regulators the store
// views (trails of who did what where), not the consents' personal data.
var accessPolicy = []struct{ allow, op, route string }{
	// Engine.
	{"acsdfuro", "healthz", "GET /healthz"},
	{"acsdfuro", "readyz", "GET /readyz"},
	{"acsdfuro", "openapi", "GET /openapi.json"},

	// Login and accounts.
	{"acsdfuro", "staffLogin", "POST /v1/auth/staff/login"},
	{"acsdfuro", "customerLogin", "POST /v1/auth/customer/login"},
	{".......o", "createStaff", "POST /v1/admin/staff"},
	{".......o", "unlockReception", "POST /v1/admin/applications/{id}/unlock"},
	{".csdfuro", "logout", "POST /v1/auth/logout"},
	{".......o", "revokeStaffTokens", "POST /v1/admin/staff/{id}/revoke-tokens"},
	{".......o", "changeStaff", "PATCH /v1/admin/staff/{id}"},
	{".......o", "privacyReport", "GET /v1/admin/privacy/{subject}"},

	// Customer (and the public).
	{"acsdfuro", "apply", "POST /v1/applications"},
	{".c......", "myApplication", "GET /v1/my/application"},
	{".c......", "myCertificate", "GET /v1/my/certificate"},
	{"acsdfuro", "downloadCertificate", "GET /v1/certificate-links/{token}"},
	{"acsdfuro", "verifyCertificate", "GET /v1/verify/{code}"},

	// Store PC.
	{"..sd....", "recordConsent", "POST /v1/consents"},
	{"..sd....", "fileByProxy", "POST /v1/proxy-applications"},
	{"..sd....", "printCertificate", "POST /v1/certificates/{number}/print"},
	{"..sd....", "reissueLink", "POST /v1/certificates/{number}/reissue-link"},
	{"..sd.uro", "awaitingApplications", "GET /v1/views/applications/awaiting"},
	{"..sd.uro", "receivedApplications", "GET /v1/views/applications/received"},
	{"..sd.uro", "listSetups", "GET /v1/views/setups"},
	{"..sd.u.o", "searchConsents", "GET /v1/views/consents"},
	{"..sd.uro", "issuanceStats", "GET /v1/views/issuance"},

	// Tablet.
	{"..sd....", "receiveApplication", "POST /v1/receptions"},
	{"..sd....", "getSetup", "GET /v1/setups/{id}"},
	{"..sd....", "recordVisitor", "POST /v1/setups/{id}/visitor"},
	{"..sd....", "checkIdentity", "POST /v1/setups/{id}/identity"},
	{"..sd....", "answerMultipleUnits", "POST /v1/setups/{id}/multiple-units"},
	{"..sd....", "recordVehicle", "POST /v1/setups/{id}/vehicle"},
	{"..sd....", "recordOBU", "POST /v1/setups/{id}/obu"},
	{"..sd....", "writeCard", "POST /v1/setups/{id}/card"},
	{"..sd....", "executeSetup", "POST /v1/setups/{id}/execute"},
	{"..sd....", "notifyCompletion", "POST /v1/setups/{id}/completion"},

	// Store station (issue 11): staff IC cards, setup-card record, My
	// Number card check. Challenges and card login are public (the card's
	// signature and the face step are the credentials); cards are enrolled
	// and revoked by the operator admin or the staff's store admin.
	{"acsdfuro", "staffCardChallenge", "POST /v1/auth/staff/card/challenge"},
	{"acsdfuro", "staffCardLogin", "POST /v1/auth/staff/card/login"},
	{"...d...o", "staffCardEnrolChallenge", "POST /v1/staff-cards/challenge"},
	{"...d...o", "enrolStaffCard", "POST /v1/staff-cards"},
	{"...d...o", "revokeStaffCard", "POST /v1/staff-cards/{serial}/revoke"},
	{"..sd....", "setupCardRecord", "GET /v1/setups/{id}/card-record"},
	{"..sd....", "recordVehicleFromInspectionQR", "POST /v1/setups/{id}/vehicle/inspection-qr"},
	{"..sd....", "jpkiChallenge", "POST /v1/setups/{id}/identity/jpki-challenge"},
	{"..sd....", "checkIdentityJPKI", "POST /v1/setups/{id}/identity/jpki"},

	// Corporate ETC cards.
	{".......o", "concludeContract", "POST /v1/contracts"},
	{"....f..o", "getContract", "GET /v1/contracts/{contract}"},
	{".......o", "issueCard", "POST /v1/cards"},
	{".......o", "renewCard", "POST /v1/cards/{card}/renewal"},
	{".......o", "reissueCard", "POST /v1/cards/{card}/reissue"},
	{"....f..o", "getCard", "GET /v1/cards/{card}"},
	{"....f..o", "listCards", "GET /v1/cards"},

	// Billing and reports.
	{"....f...", "importUsage", "POST /v1/usage-files"},
	{"....f...", "runBilling", "POST /v1/billing-runs"},
	{"....f...", "getRun", "GET /v1/runs/{run}"},
	{"....f...", "searchInvoices", "GET /v1/invoices"},
	{"....f...", "getInvoice", "GET /v1/invoices/{invoice}"},
	{"....f...", "getInvoiceCSV", "GET /v1/invoices/{invoice}/csv"},
	{"....f...", "getInvoicePDF", "GET /v1/invoices/{invoice}/pdf"},
	{"....f...", "billingTotals", "GET /v1/billing-totals"},
	{"....f...", "nonBusinessDayUsage", "GET /v1/reports/{contract}/{month}/non-business-day-usage"},
	{"....f...", "otherVehicleUsage", "GET /v1/reports/{contract}/{month}/other-vehicle-usage"},

	// Audit: history as of any date, personal data opened, every read
	// recorded. Auditors and the operator admin; not regulators (they get
	// the transparency log and redacted exports), customers or stores.
	{".....u.o", "auditStreamEvents", "GET /v1/audit/streams/{stream}/events"},
	{".....u.o", "auditStreamState", "GET /v1/audit/streams/{stream}/state"},
	{".....u.o", "auditConsentsAsOf", "GET /v1/audit/consents"},
	{".....u.o", "auditConsentChanges", "GET /v1/audit/consents/changes"},
	{".....u.o", "auditReads", "GET /v1/audit/reads"},

	// Transparency log (public, C2SP tlog-tiles) and the regulators' audit
	// export (no personal data in plaintext; auditors read history instead).
	{"acsdfuro", "logCheckpoint", "GET /v1/log/checkpoint"},
	{"acsdfuro", "logKey", "GET /v1/log/key"},
	{"acsdfuro", "logTile", "GET /v1/log/tile/*"},
	{"......ro", "auditExport", "GET /v1/audit/exports"},
}

// callers are the matrix columns, in order.
var callers = []struct {
	col  byte
	role string // as in x-roles; "" for anonymous
}{
	{'a', ""}, {'c', "customer"}, {'s', "store_staff"}, {'d', "store_admin"},
	{'f', "finance"}, {'u', "auditor"}, {'r', "regulator"}, {'o', "operator_admin"},
}

// apply files a web application and answers its ID, passcode and QR.
func (e *env) apply() (id, pass, qr string) {
	e.t.Helper()
	m := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(e.t)
	return m["application_id"].(string), m["passcode"].(string), m["qr"].(string)
}

func (e *env) customer(id, pass string) string {
	e.t.Helper()
	return e.must(200, e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"application_id": id, "passcode": pass})).json(e.t)["token"].(string)
}

// receive receives an application at staff's store: the setup and its version.
func (e *env) receive(staff, qr string) (string, int64) {
	e.t.Helper()
	m := e.must(201, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": qr})).json(e.t)
	return m["setup_id"].(string), int64(m["version"].(float64))
}

// setupSteps are valid bodies for every tablet step, in order.
var setupSteps = []struct {
	path string
	body any
}{
	{"visitor", map[string]any{"Kind": "user", "Name": "山田太郎", "IDDocumentType": "運転免許証", "DocumentChecked": true}},
	{"identity", map[string]any{"Passed": true, "Method": "運転免許証"}},
	{"multiple-units", map[string]any{"Multiple": false}},
	{"vehicle", map[string]any{"inspection_qr": "JCI1/品川300あ1234/12345/0001/1850/普通乗用"}},
	{"obu", map[string]string{"kind": "ETC2.0", "number": "1234567890123456789"}},
	// Step 8: complete uses cardStep (a signed record read back, see
	// station_helpers_test.go); this body is only well-formed.
	{"card", map[string]any{"card_serial": "X", "read_back": []byte("x"), "read_hash": "00"}},
	{"execute", map[string]any{}},
}

// complete runs every step of the setup sid and the completion notice; it
// answers the certificate number.
func (e *env) complete(staff, sid string, v int64) string {
	e.t.Helper()
	for _, st := range setupSteps {
		if st.path == "card" {
			v = e.cardStep(staff, sid, v)
			continue
		}
		m := e.must(200, e.do("POST", "/v1/setups/"+sid+"/"+st.path, staff, q(v), st.body)).json(e.t)
		v = int64(m["version"].(float64))
	}
	return e.must(200, e.do("POST", "/v1/setups/"+sid+"/completion", staff, q(v), nil)).json(e.t)["certificate_number"].(string)
}

func (r resp) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("not a JSON list (%d): %s", r.code, short(r.body))
	}
	return l
}

// column returns the values of key in rows.
func column(rows []map[string]any, key string) []string {
	var out []string
	for _, r := range rows {
		s, _ := r[key].(string)
		out = append(out, s)
	}
	return out
}

var pathParams = regexp.MustCompile(`\{[^}]+\}`)

func TestAccessMatrix(t *testing.T) {
	e := start(t)
	tokens := map[byte]string{'a': ""}
	id, pass, _ := e.apply()
	tokens['c'] = e.customer(id, pass)
	tokens['s'] = e.staff("st-A", "store-A", "store_staff")
	tokens['d'] = e.staff("ad-A", "store-A", "store_admin")
	tokens['f'] = e.staff("fin-1", "", "finance")
	tokens['u'] = e.staff("aud-1", "", "auditor")
	tokens['r'] = e.staff("reg-1", "", "regulator")
	tokens['o'] = e.staff("ops-1", "", "operator_admin")

	policy := map[string]int{}
	for i, row := range accessPolicy {
		if len(row.allow) != len(callers) {
			t.Fatalf("row %s: %q has %d columns, want %d", row.op, row.allow, len(row.allow), len(callers))
		}
		for j, c := range callers {
			if row.allow[j] != c.col && row.allow[j] != '.' {
				t.Fatalf("row %s: column %d is %q, want %q or '.'", row.op, j, row.allow[j], c.col)
			}
		}
		if _, dup := policy[row.op]; dup {
			t.Fatalf("two rows for %s", row.op)
		}
		policy[row.op] = i
	}

	doc := e.must(200, e.do("GET", "/openapi.json", "", "", nil)).json(t)
	paths := doc["paths"].(map[string]any)
	documented := map[string]bool{} // "METHOD /path"
	seen := map[string]bool{}
	before := e.eventCount()
	probes := 0
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			route := strings.ToUpper(method) + " " + path
			documented[route] = true
			opID, _ := op["operationId"].(string)
			i, ok := policy[opID]
			if !ok {
				t.Errorf("%s (%s) has no row in accessPolicy: decide who may call it and add one", route, opID)
				continue
			}
			row := accessPolicy[i]
			seen[opID] = true
			if row.route != route {
				t.Errorf("row %s names %q, the API serves it at %q", opID, row.route, route)
			}

			// The documented roles are the policy's.
			var want, got []string
			public := row.allow[0] == 'a'
			for j, c := range callers {
				if j > 0 && row.allow[j] == c.col {
					want = append(want, c.role)
				}
			}
			if xr, ok := op["x-roles"].([]any); ok {
				for _, r := range xr {
					got = append(got, r.(string))
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			sec, declared := op["security"].([]any)
			switch {
			case public && (got != nil || !declared || len(sec) != 0):
				t.Errorf("%s is public in the policy but /openapi.json documents roles %v and security %v (want [])", opID, got, op["security"])
			case public && row.allow != "acsdfuro":
				t.Errorf("row %s: a public operation is open to every caller, got %q", opID, row.allow)
			case !public && !slices.Equal(want, got):
				t.Errorf("%s: /openapi.json documents roles %v, the policy says %v", opID, got, want)
			}

			// The server enforces the policy.
			url := pathParams.ReplaceAllString(path, "none")
			var body []byte
			if method != "get" {
				body = []byte("{") // malformed: an allowed command stops at validation
			}
			for j, c := range callers {
				tok := tokens[c.col]
				if opID == "logout" && tok != "" { // logout revokes: probe with a token of its own
					tok = e.a.API.Tokens().Issue(api.Principal{Role: api.Role(c.role), Subject: "probe-" + c.role})
				}
				r := e.request(strings.ToUpper(method), url, tok, nil, body)
				probes++
				who := c.role
				if who == "" {
					who = "anonymous"
				}
				var p struct{ Code string }
				_ = json.Unmarshal(r.body, &p)
				allowed := row.allow[j] == c.col
				switch {
				case allowed && (r.code == 401 || r.code == 403):
					t.Errorf("%s as %s: %d %s, the policy allows it", route, who, r.code, short(r.body))
				case allowed && r.code >= 500:
					t.Errorf("%s as %s: %d %s", route, who, r.code, short(r.body))
				case !allowed && c.col == 'a' && (r.code != 401 || p.Code != "unauthenticated"):
					t.Errorf("%s without a token: %d %s, want 401 unauthenticated", route, r.code, short(r.body))
				case !allowed && c.col != 'a' && (r.code != 403 || p.Code != "forbidden_role"):
					t.Errorf("%s as %s: %d %s, want 403 forbidden_role", route, who, r.code, short(r.body))
				}
			}
		}
	}
	for _, row := range accessPolicy {
		if !seen[row.op] {
			t.Errorf("accessPolicy has a row for %s (%s) but the API has no such operation", row.op, row.route)
		}
	}
	// Every served route is documented, so none escapes the matrix; the
	// web pages have their own table (pagePolicy, TestPageAccess).
	pages := map[string]bool{"GET /static/*": true}
	for _, p := range e.a.Web.Pages() {
		pages[p.Method+" "+p.Path] = true
	}
	for _, r := range e.a.API.Echo().Routes() {
		if pages[r.Method+" "+r.Path] {
			continue
		}
		if !documented[r.Method+" "+pathParamEcho.ReplaceAllString(r.Path, "{$1}")] {
			t.Errorf("route %s %s is served but not in /openapi.json, so the matrix cannot see it", r.Method, r.Path)
		}
	}
	if probes != len(accessPolicy)*len(callers) {
		t.Errorf("%d probes, want %d", probes, len(accessPolicy)*len(callers))
	}
	if n := e.eventCount(); n != before {
		t.Errorf("the matrix probes wrote %d events", n-before)
	}
}

var pathParamEcho = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// Staff of store B can neither see nor act on store A's receptions, setups,
// certificates, consents or views. A's things answer exactly as things that
// do not exist (404, same code), so B cannot even learn they exist; and
// nothing is written.
func TestAccessStoreScoping(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	staffA := e.staff("st-A", "store-A", "store_staff")
	staffB := e.staff("st-B", "store-B", "store_staff")
	adminB := e.staff("ad-B", "store-B", "store_admin")

	// Store A: a completed setup (certificate), a setup in progress, a
	// consent and a proxy filing awaiting reception.
	_, _, qrDone := e.apply()
	sidDone, vDone := e.receive(staffA, qrDone)
	number := e.complete(staffA, sidDone, vDone)
	openID, _, qrOpen := e.apply()
	sidOpen, vOpen := e.receive(staffA, qrOpen)
	consent := map[string]any{
		"consent_id": "CON-A-1", "request_date": "2026-03-30",
		"applicant":   map[string]any{"name": "鈴木花子", "address": "東京都港区4-5-6", "phone": "03-9876-5432"},
		"acceptances": applicant["acceptances"], "delegates_setup_application": true, "units": 1,
	}
	e.must(201, e.do("POST", "/v1/consents", staffA, "", consent))
	proxy := e.must(201, e.do("POST", "/v1/proxy-applications", staffA, "", map[string]any{
		"consent_id": "CON-A-1", "units": 1, "acceptances": applicant["acceptances"],
		"details": map[string]any{"applicant": consent["applicant"], "vehicle_user": "鈴木花子"},
	})).json(t)["application_id"].(string)
	// Store B has a reception of its own, so its views are not empty.
	_, _, qrB := e.apply()
	sidB, _ := e.receive(staffB, qrB)

	docs := func() int {
		var n int
		if err := e.a.Pool.QueryRow(ctx, `SELECT count(*) FROM setup_consent_documents`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, docsBefore := e.eventCount(), docs()

	// notFound: A's thing answers as a thing that does not exist.
	notFound := func(who, what string, mine, none resp) {
		t.Helper()
		var pm, pn struct{ Code string }
		_ = json.Unmarshal(mine.body, &pm)
		_ = json.Unmarshal(none.body, &pn)
		if mine.code != 404 || none.code != 404 || pm.Code != pn.Code {
			t.Errorf("%s, %s of store A: %d %s; one that does not exist: %d %s — want the same 404", who, what, mine.code, short(mine.body), none.code, short(none.body))
		}
	}
	for _, b := range []struct{ who, token string }{{"store B staff", staffB}, {"store B admin", adminB}} {
		tok := b.token
		notFound(b.who, "GET a finished setup", e.do("GET", "/v1/setups/"+sidDone, tok, "", nil), e.do("GET", "/v1/setups/SU-NONE", tok, "", nil))
		notFound(b.who, "GET a setup in progress", e.do("GET", "/v1/setups/"+sidOpen, tok, "", nil), e.do("GET", "/v1/setups/SU-NONE", tok, "", nil))
		for _, st := range setupSteps {
			// With A's current version, and with a stale one (a 409 would leak the version).
			for _, v := range []string{q(vOpen), `"99"`} {
				notFound(b.who, "step "+st.path+" (If-Match "+v+")",
					e.do("POST", "/v1/setups/"+sidOpen+"/"+st.path, tok, v, st.body),
					e.do("POST", "/v1/setups/SU-NONE/"+st.path, tok, v, st.body))
			}
		}
		notFound(b.who, "completion of a setup", e.do("POST", "/v1/setups/"+sidOpen+"/completion", tok, q(vOpen), nil), e.do("POST", "/v1/setups/SU-NONE/completion", tok, q(vOpen), nil))
		notFound(b.who, "print a certificate", e.do("POST", "/v1/certificates/"+number+"/print", tok, "", nil), e.do("POST", "/v1/certificates/SC-NONE/print", tok, "", nil))
		notFound(b.who, "reissue a certificate link", e.do("POST", "/v1/certificates/"+number+"/reissue-link", tok, "", nil), e.do("POST", "/v1/certificates/SC-NONE/reissue-link", tok, "", nil))
		proxyWith := func(id string) resp {
			return e.do("POST", "/v1/proxy-applications", tok, "", map[string]any{
				"consent_id": id, "units": 1, "acceptances": applicant["acceptances"],
				"details": map[string]any{"applicant": consent["applicant"], "vehicle_user": "鈴木花子"},
			})
		}
		notFound(b.who, "file by proxy under a consent", proxyWith("CON-A-1"), proxyWith("CON-NONE"))

		// Receiving an application A has received: refused, nothing written.
		if r := e.do("POST", "/v1/receptions", tok, "", map[string]string{"qr": qrOpen}); r.code != 409 {
			t.Errorf("%s receiving store A's reception: %d %s, want 409 already_received", b.who, r.code, short(r.body))
		}
		// Consent IDs are global, so a taken one is refused — without
		// touching A's consent or storing B's PDF under A's ID.
		steal := map[string]any{}
		for k, v := range consent {
			steal[k] = v
		}
		steal["signed_pdf"] = base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 store B"))
		if r := e.do("POST", "/v1/consents", tok, "", steal); r.code != 409 {
			t.Errorf("%s recording a consent under store A's consent ID: %d %s, want 409", b.who, r.code, short(r.body))
		}

		// Views: B's own rows only, whatever B searches for.
		views := []struct {
			path, key string
			a         []string // A's IDs that must not show
		}{
			{"/v1/views/applications/awaiting", "application_id", []string{proxy}},
			{"/v1/views/applications/received", "application_id", []string{openID}},
			{"/v1/views/setups", "setup_id", []string{sidDone, sidOpen}},
			{"/v1/views/setups?status=completed", "setup_id", []string{sidDone}},
			{"/v1/views/consents", "consent_id", []string{"CON-A-1"}},
			{"/v1/views/consents?applicant=鈴木", "consent_id", []string{"CON-A-1"}},
			{"/v1/views/issuance", "store_id", []string{"store-A"}},
		}
		for _, v := range views {
			rows := e.must(200, e.do("GET", v.path, tok, "", nil)).list(t)
			for _, row := range rows {
				if s, ok := row["store_id"]; ok && s != "store-B" {
					t.Errorf("%s sees a row of %v in %s: %v", b.who, s, v.path, row)
				}
			}
			for _, id := range v.a {
				if slices.Contains(column(rows, v.key), id) {
					t.Errorf("%s sees store A's %s in %s", b.who, id, v.path)
				}
			}
		}
		if got := column(e.must(200, e.do("GET", "/v1/views/setups", tok, "", nil)).list(t), "setup_id"); !slices.Equal(got, []string{sidB}) {
			t.Errorf("%s lists setups %v, want its own %s", b.who, got, sidB)
		}
	}
	if n := e.eventCount(); n != before {
		t.Errorf("store B's attempts wrote %d events", n-before)
	}
	if n := docs(); n != docsBefore {
		t.Errorf("store B's attempts stored %d consent documents", n-docsBefore)
	}

	// Store A still sees and acts on all of it (the refusals above are
	// about the store, not broken IDs).
	e.must(200, e.do("GET", "/v1/setups/"+sidOpen, staffA, "", nil))
	e.must(200, e.do("POST", "/v1/setups/"+sidOpen+"/visitor", staffA, q(vOpen), setupSteps[0].body))
	e.must(200, e.do("POST", "/v1/certificates/"+number+"/print", staffA, "", nil))
	e.must(200, e.do("POST", "/v1/certificates/"+number+"/reissue-link", staffA, "", nil))
	for _, v := range []struct{ path, key, id string }{
		{"/v1/views/applications/awaiting", "application_id", proxy},
		{"/v1/views/applications/received", "application_id", openID},
		{"/v1/views/setups", "setup_id", sidDone},
		{"/v1/views/consents?applicant=鈴木", "consent_id", "CON-A-1"},
		{"/v1/views/issuance", "store_id", "store-A"},
	} {
		if !slices.Contains(column(e.must(200, e.do("GET", v.path, staffA, "", nil)).list(t), v.key), v.id) {
			t.Errorf("store A does not see its own %s in %s", v.id, v.path)
		}
	}
	// And the overseers see both stores.
	auditor := e.staff("aud-1", "", "auditor")
	if got := column(e.must(200, e.do("GET", "/v1/views/setups", auditor, "", nil)).list(t), "store_id"); !slices.Contains(got, "store-A") || !slices.Contains(got, "store-B") {
		t.Errorf("the auditor sees setups of stores %v, want both", got)
	}
}

// A customer logged in for application X sees X only: never Y's status or
// Y's certificate, whatever they send.
func TestAccessCustomerScoping(t *testing.T) {
	e := start(t)
	staff := e.staff("st-A", "store-A", "store_staff")
	xID, xPass, xQR := e.apply()
	yID, yPass, yQR := e.apply()
	sidY, vY := e.receive(staff, yQR)
	numberY := e.complete(staff, sidY, vY)
	sidX, vX := e.receive(staff, xQR)
	cust := e.customer(xID, xPass)
	before := e.eventCount()

	m := e.must(200, e.do("GET", "/v1/my/application", cust, "", nil)).json(t)
	if m["application_id"] != xID || m["certificate"] != nil {
		t.Errorf("GET /v1/my/application as customer X: %v, want X (%s) without a certificate", m, xID)
	}
	// Naming Y in the query is not understood, so it is refused, never
	// silently answered with X (or Y).
	for _, path := range []string{"/v1/my/application?application_id=" + yID, "/v1/my/application?app=" + yID} {
		if p := e.problem(e.do("GET", path, cust, "", nil), 400, "unknown_query_parameter"); strings.Contains(p.Detail, yID) {
			t.Errorf("GET %s: the problem repeats the parameter's value: %s", path, p.Detail)
		}
	}
	// X has no certificate yet; Y's is never the answer.
	if r := e.do("GET", "/v1/my/certificate", cust, "", nil); r.code != 404 {
		t.Errorf("customer X's certificate before X's setup is complete: %d (title %q), want 404", r.code, pdfInfo(r.body, "Title"))
	}
	// Y's credentials mixed with X's do not log in.
	for _, c := range []map[string]string{{"application_id": xID, "passcode": yPass}, {"application_id": yID, "passcode": xPass}} {
		if r := e.do("POST", "/v1/auth/customer/login", "", "", c); r.code != 401 {
			t.Errorf("customer login %v: %d %s, want 401", c, r.code, short(r.body))
		}
	}
	// X's token edited to name Y is refused.
	body, sig, _ := strings.Cut(cust, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	if !bytes.Contains(raw, []byte(xID)) {
		t.Fatalf("the customer token does not carry the application ID: %s", raw)
	}
	forged := base64.RawURLEncoding.EncodeToString(bytes.ReplaceAll(raw, []byte(xID), []byte(yID))) + "." + sig
	for _, path := range []string{"/v1/my/application", "/v1/my/certificate"} {
		if r := e.do("GET", path, forged, "", nil); r.code != 401 {
			t.Errorf("GET %s with X's token edited to Y: %d, want 401", path, r.code)
		}
	}
	// A customer token does not open store routes to Y's certificate.
	if r := e.do("POST", "/v1/certificates/"+numberY+"/print", cust, "", nil); r.code != 403 {
		t.Errorf("customer X printing Y's certificate: %d, want 403", r.code)
	}

	// Once X is complete, X gets X's certificate — and X's mailed link
	// secret does not open Y's certificate.
	numberX := e.complete(staff, sidX, vX)
	r := e.must(200, e.do("GET", "/v1/my/certificate", cust, "", nil))
	if title := pdfInfo(r.body, "Title"); !strings.Contains(title, numberX) || strings.Contains(title, numberY) {
		t.Errorf("customer X's certificate is titled %q, want X's %s", title, numberX)
	}
	if m := e.must(200, e.do("GET", "/v1/my/application", cust, "", nil)).json(t); m["certificate"] != numberX {
		t.Errorf("customer X's status names certificate %v, want %s", m["certificate"], numberX)
	}
	var linkX string
	for _, m := range e.inbox.Wait(t, 4) {
		if l := regexp.MustCompile(`/v1/certificate-links/(` + numberX + `\.\S+)`).FindStringSubmatch(smtptest.Decode(m)); l != nil {
			linkX = l[1]
		}
	}
	if linkX == "" {
		t.Fatal("no mailed link for X")
	}
	before = e.eventCount()
	if r := e.do("GET", "/v1/certificate-links/"+strings.Replace(linkX, numberX, numberY, 1), "", "", nil); r.code != 404 {
		t.Errorf("X's link secret on Y's certificate: %d %s, want 404", r.code, short(r.body))
	}
	if n := e.eventCount(); n != before {
		t.Errorf("the refused download wrote %d events", n-before)
	}
	e.must(200, e.do("GET", "/v1/certificate-links/"+linkX, "", "", nil))
}

// The customer login has its own passcode lock (issue 10): five wrong
// passcodes lock it (each recorded), the right one is then refused until
// the operator unlocks, and none of it counts toward a store's reception
// lock: the store still gets its five attempts and receives.
func TestAccessCustomerLoginLockIsSeparateFromReception(t *testing.T) {
	e := start(t)
	staff := e.staff("st-A", "store-A", "store_staff")
	id, pass, qr := e.apply()
	before := e.eventCount()
	for i := 0; i < 8; i++ {
		r := e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"application_id": id, "passcode": "WRONGPASS" + strconv.Itoa(i)})
		if r.code != 401 {
			t.Fatalf("wrong passcode at customer login %d: %d %s, want 401", i+1, r.code, short(r.body))
		}
	}
	if n := e.eventCount() - before; n != 6 {
		t.Fatalf("8 wrong customer logins wrote %d events, want 5 rejections and the lock", n)
	}
	if r := e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"application_id": id, "passcode": pass}); r.code != 401 {
		t.Fatalf("right passcode on a locked login: %d %s, want 401", r.code, short(r.body))
	}

	// The store's first wrong passcode is the first failure; four leave it open.
	for i := 1; i <= 4; i++ {
		r := e.do("POST", "/v1/receptions", staff, "", map[string]string{"application_id": id, "passcode": "WRONGPASS1"})
		var p struct{ Code, Detail string }
		_ = json.Unmarshal(r.body, &p)
		if r.code != 422 || p.Code != "wrong_passcode" || !strings.Contains(p.Detail, "("+strconv.Itoa(i)+" of 5") {
			t.Fatalf("wrong passcode at reception %d: %d %s, want 422 wrong_passcode (%d of 5)", i, r.code, short(r.body), i)
		}
	}
	e.receive(staff, qr)
}

// short is a response body cut for a failure message (a PDF is long).
func short(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return strings.ToValidUTF8(string(b), "…")
}
