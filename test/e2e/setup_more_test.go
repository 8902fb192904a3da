package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// The proxy customer: a corporation without a smartphone, with an agent.
// The e-mail address is given on purpose: a proxy filing must not mail the
// customer even when it could.
var (
	proxyApplicant = map[string]any{"corporation_name": "株式会社佐藤運送", "name": "佐藤花子", "address": "大阪府大阪市北区梅田1-1-1",
		"phone": "06-1111-2222", "email": "hanako.sato@example.jp"}
	proxyAgent    = map[string]any{"name": "鈴木一郎", "address": "大阪府吹田市2-2-2", "phone": "06-3333-4444"}
	acceptedAll   = map[string]bool{"personal_data_policy": true, "etc_system_terms": true, "dsrc_terms": true, "probe_data_policy": true}
	proxyPersonal = []string{"佐藤花子", "hanako.sato@example.jp", "06-1111-2222", "鈴木一郎", "06-3333-4444", "梅田1-1-1"}
	signedPDF     = []byte("%PDF-1.4\n% 委任状 signed by the customer\n%%EOF\n")
)

// consent is a proxy consent (委任状) with every item domain.md lists.
func consent(id, requestDate string, units int, from, to string, applicant map[string]any) map[string]any {
	return map[string]any{
		"consent_id": id, "request_date": requestDate, "applicant": applicant, "agent": proxyAgent, "acceptances": acceptedAll,
		"delegates_setup_application": true, "signed_pdf": signedPDF, "units": units, "valid_from": from, "valid_to": to,
	}
}

func proxyFiling(consentID string) map[string]any {
	return map[string]any{"consent_id": consentID, "details": map[string]any{"applicant": proxyApplicant, "vehicle_user": "株式会社佐藤運送", "agent": proxyAgent},
		"acceptances": acceptedAll, "units": 1}
}

// problem checks a problem+json answer: status, code, and that the detail
// says something.
func (e *env) problem(r resp, status int, code string) api.Problem {
	e.t.Helper()
	if r.code != status || !strings.HasPrefix(r.ctype, "application/problem+json") {
		e.t.Fatalf("got %d %s, want %d problem+json: %s", r.code, r.ctype, status, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatal(err)
	}
	if p.Code != code || p.Status != status || p.Detail == "" {
		e.t.Fatalf("problem %+v, want code %s with a detail", p, code)
	}
	return p
}

// runSetup receives an application on the tablet and takes it through every
// step to the completion notice; it answers the certificate number.
func (e *env) runSetup(staff, qr, visitorKind, visitor, obu string) string {
	t := e.t
	t.Helper()
	rec := e.must(201, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": qr})).json(t)
	sid := rec["setup_id"].(string)
	v := int64(rec["version"].(float64))
	step := func(path string, body any) map[string]any {
		t.Helper()
		r := e.must(200, e.do("POST", "/v1/setups/"+sid+"/"+path, staff, q(v), body)).json(t)
		if n, ok := r["version"].(float64); ok {
			v = int64(n)
		}
		return r
	}
	step("visitor", map[string]any{"Kind": visitorKind, "Name": visitor, "IDDocumentType": "運転免許証", "DocumentChecked": true})
	step("identity", map[string]any{"Passed": true, "Method": "運転免許証"})
	step("multiple-units", map[string]any{"Multiple": true})
	step("vehicle", map[string]any{"inspection_qr": "JCI1/なにわ100さ5678/23456/0002/7950/普通貨物"})
	step("obu", map[string]string{"kind": "ETC2.0", "number": obu})
	v = e.cardStep(staff, sid, v)
	step("execute", map[string]any{})
	n := step("completion", nil)["certificate_number"].(string)
	if n == "" {
		t.Fatal("completion gave no certificate number")
	}
	return n
}

// events reads and decodes a whole stream.
func (e *env) events(stream string) []es.Event {
	e.t.Helper()
	ctx := context.Background()
	rs, err := e.a.Store.ReadStream(ctx, stream, es.Forwards, 1, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.a.Codec.DecodeAll(ctx, rs)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func consentIDs(rows []map[string]any) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["consent_id"].(string))
	}
	return ids
}

func (e *env) consentRows(token, query string) []map[string]any {
	e.t.Helper()
	var rows []map[string]any
	r := e.must(200, e.do("GET", "/v1/views/consents?"+query, token, "", nil))
	if err := json.Unmarshal(r.body, &rows); err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func TestSetup_proxy_consent_covers_three_vehicles(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	otherStore := e.staff("st-9", "store-B", "store_staff")
	auditor := e.staff("au-1", "", "auditor")

	// The consent must name the delegation; without it nothing is written.
	before := e.eventCount()
	noDelegation := consent("CN-0001", "2026-04-01", 3, "2026-04-01", "2026-04-30", proxyApplicant)
	noDelegation["delegates_setup_application"] = false
	if p := e.problem(e.do("POST", "/v1/consents", staff, "", noDelegation), 422, "no_delegation"); p.Field != "delegates_setup_application" {
		t.Fatalf("problem names field %q", p.Field)
	}
	if e.eventCount() != before {
		t.Fatal("a refused consent wrote events")
	}

	// Store staff record the consent: 3 units, April 2026.
	e.must(201, e.do("POST", "/v1/consents", staff, "", consent("CN-0001", "2026-04-01", 3, "2026-04-01", "2026-04-30", proxyApplicant)))

	// A consent covers one customer's vehicles, never another customer's.
	other := proxyFiling("CN-0001")
	other["details"] = applicant["details"]
	e.problem(e.do("POST", "/v1/proxy-applications", staff, "", other), 422, "consent_other_applicant")
	if e.eventCount() != before+1 {
		t.Fatal("a filing for another applicant wrote events")
	}

	// Three filings by proxy, one per vehicle.
	var filed []map[string]any
	for i := 1; i <= 3; i++ {
		filed = append(filed, e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0001"))).json(t))
	}
	// A fourth is beyond the 3 units: 409 problem+json, nothing written.
	before = e.eventCount()
	if p := e.problem(e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0001")), 409, "consent_used_up"); !strings.Contains(p.Detail, "3 units") {
		t.Fatalf("detail does not say how many units were covered: %q", p.Detail)
	}
	// Another store may not use the consent, nor learn that it exists.
	e.problem(e.do("POST", "/v1/proxy-applications", otherStore, "", proxyFiling("CN-0001")), 404, "consent_not_found")
	// Outside the period: one that ended yesterday, one that starts tomorrow.
	e.must(201, e.do("POST", "/v1/consents", staff, "", consent("CN-0002", "2026-03-01", 3, "2026-03-01", "2026-03-31", proxyApplicant)))
	e.must(201, e.do("POST", "/v1/consents", staff, "", consent("CN-0003", "2026-04-01", 2, "2026-04-02", "2026-04-30", proxyApplicant)))
	mid := e.eventCount()
	if p := e.problem(e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0002")), 410, "consent_period_over"); !strings.Contains(p.Detail, "2026-03-31") {
		t.Fatalf("detail does not name the end of the period: %q", p.Detail)
	}
	if p := e.problem(e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0003")), 409, "consent_not_yet_valid"); !strings.Contains(p.Detail, "2026-04-02") {
		t.Fatalf("detail does not name the start of the period: %q", p.Detail)
	}
	e.problem(e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0404")), 404, "consent_not_found")
	if e.eventCount() != mid || mid != before+2 {
		t.Fatalf("refused filings wrote events (%d → %d → %d)", before, mid, e.eventCount())
	}

	// The filings await reception at the filing store, marked by proxy.
	var awaiting []map[string]any
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/applications/awaiting", staff, "", nil)).body, &awaiting)
	if len(awaiting) != 3 || awaiting[0]["by_proxy"] != true {
		t.Fatalf("awaiting view: %v", awaiting)
	}
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/applications/awaiting", otherStore, "", nil)).body, &awaiting)
	if len(awaiting) != 0 {
		t.Fatalf("another store sees the proxy filings: %v", awaiting)
	}

	// One of them through reception, the whole setup and completion.
	number := e.runSetup(staff, filed[0]["qr"].(string), "agent", "鈴木一郎", "1234567890123456789")

	// The store prints the certificate (required after proxy filing); the
	// print is logged with who printed it. Another store cannot print it.
	pdf := e.must(200, e.do("POST", "/v1/certificates/"+number+"/print", staff, "", nil))
	if !strings.HasPrefix(string(pdf.body), "%PDF-") || pdf.ctype != "application/pdf" || !strings.Contains(pdfInfo(pdf.body, "Title"), number) {
		t.Fatal("print did not answer the certificate PDF")
	}
	e.must(404, e.do("POST", "/v1/certificates/"+number+"/print", otherStore, "", nil))
	var printed []certificate.Printed
	for _, ev := range e.events("certificate-" + number) {
		switch p := ev.Payload.(type) {
		case certificate.Printed:
			printed = append(printed, p)
		case certificate.LinkSent, certificate.LinkSecretSealed:
			t.Fatalf("a proxy filing's certificate got a download link for the customer: %T", p)
		}
	}
	if len(printed) != 1 || printed[0].StaffID != "st-1" || printed[0].StoreID != "store-A" {
		t.Fatalf("print log: %+v", printed)
	}
	var stats []map[string]any
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/issuance", staff, "", nil)).body, &stats)
	if len(stats) != 1 || stats[0]["issued"] != 1.0 || stats[0]["prints"] != 1.0 {
		t.Fatalf("issuance view: %v", stats)
	}

	// No mail to the proxy customer. A web application afterwards is the
	// control: its mail arrives, and it is the only one.
	web := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	mails := e.inbox.Wait(t, 1)
	time.Sleep(300 * time.Millisecond)
	mails = e.inbox.All()
	if len(mails) != 1 || !strings.Contains(smtptest.Decode(mails[0]), web["application_id"].(string)) {
		t.Fatalf("want only the web applicant's mail, got %d mails", len(mails))
	}
	for _, m := range mails {
		if strings.Contains(m, "hanako.sato@example.jp") {
			t.Fatal("the proxy customer was mailed")
		}
	}

	// The consent history: by store, applicant and date.
	rows := e.consentRows(staff, "")
	if got := consentIDs(rows); len(got) != 3 {
		t.Fatalf("store A sees consents %v", got)
	}
	for _, r := range rows {
		if r["consent_id"] == "CN-0001" && (r["used"] != 3.0 || r["units"] != 3.0 || r["applicant_name"] != "株式会社佐藤運送 佐藤花子" || r["signed_pdf"] == nil) {
			t.Fatalf("consent row: %v", r)
		}
	}
	if got := e.consentRows(otherStore, ""); len(got) != 0 {
		t.Fatalf("store B sees store A's consents: %v", consentIDs(got))
	}
	if got := consentIDs(e.consentRows(auditor, "store=store-A&applicant="+url.QueryEscape("佐藤")+"&from=2026-04-01&to=2026-04-01")); len(got) != 2 || got[0] == "CN-0002" || got[1] == "CN-0002" {
		t.Fatalf("auditor search by store, applicant and date: %v", got)
	}
	if got := e.consentRows(auditor, "store=store-B"); len(got) != 0 {
		t.Fatalf("auditor search by another store: %v", consentIDs(got))
	}
	if got := e.consentRows(auditor, "applicant="+url.QueryEscape("田中")); len(got) != 0 {
		t.Fatalf("search by an applicant who has no consent: %v", consentIDs(got))
	}
	if got := consentIDs(e.consentRows(auditor, "to=2026-03-31")); len(got) != 1 || got[0] != "CN-0002" {
		t.Fatalf("search up to a date: %v", got)
	}
	e.problem(e.do("GET", "/v1/views/consents?from=yesterday", auditor, "", nil), 422, "bad_date")
}

// personal walks an event's JSON form and counts its Personal values, and
// those still readable (not Erased).
func personal(t *testing.T, ev es.Event) (all, readable int) {
	t.Helper()
	b, err := json.Marshal(ev.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if p, ok := v[domain.PersonalKey].(map[string]any); ok {
				all++
				if p["erased"] != true {
					readable++
				}
				return
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return all, readable
}

// assertErased checks that every personal value in the streams now reads
// back Erased, and answers how many there were.
func (e *env) assertErased(streams ...string) int {
	e.t.Helper()
	total := 0
	for _, s := range streams {
		var all, readable int
		for _, ev := range e.events(s) {
			a, r := personal(e.t, ev)
			all, readable = all+a, readable+r
		}
		if readable != 0 {
			e.t.Errorf("%s: %d of %d personal values still readable", s, readable, all)
		}
		total += all
	}
	return total
}

func (e *env) runJobs(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if err := e.a.RunJob(context.Background(), n); err != nil {
			e.t.Fatalf("job %s: %v", n, err)
		}
	}
}

func TestSetup_retention_ends_after_5_years(t *testing.T) {
	e := start(t)
	t0 := e.clock.Now() // web completion and proxy filing
	staff := e.staff("st-1", "store-A", "store_staff")
	auditor := e.staff("au-1", "", "auditor")
	jobs := []string{app.JobExpireApplications, app.JobEndRetention, app.JobConsentRetention}

	web := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	e.must(201, e.do("POST", "/v1/consents", staff, "", consent("CN-0100", "2026-04-01", 1, "", "", proxyApplicant)))
	proxy := e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0100"))).json(t)
	e.inbox.Wait(t, 1)

	// Received ten days later: the 5 years still count from completion.
	e.clock.Advance(10 * 24 * time.Hour)
	staff = e.login("st-1")
	number := e.runSetup(staff, web["qr"].(string), "user", "山田太郎", "1234567890123456789")
	e.must(201, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": proxy["qr"].(string)}))
	e.inbox.Wait(t, 2) // the certificate link
	ids := []string{web["application_id"].(string), proxy["application_id"].(string)}
	var setups []map[string]any
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/setups", staff, "", nil)).body, &setups)
	if len(setups) != 2 {
		t.Fatalf("setups: %v", setups)
	}
	streams := []string{"application-" + ids[0], "application-" + ids[1], "consent-CN-0100", "certificate-" + number}
	for _, s := range setups {
		streams = append(streams, "setup-"+s["setup_id"].(string))
	}

	received := func(tok string) []string {
		t.Helper()
		var rows []map[string]any
		_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/applications/received", tok, "", nil)).body, &rows)
		var got []string
		for _, r := range rows {
			got = append(got, r["application_id"].(string))
		}
		return got
	}
	stillThere := func() string {
		t.Helper()
		before := e.eventCount()
		e.runJobs(jobs...)
		if e.eventCount() != before {
			t.Fatalf("%s: a retention job wrote events before the 5 years were over", e.clock.Now())
		}
		cust := e.must(200, e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"qr": web["qr"].(string)})).json(t)["token"].(string)
		st := e.must(200, e.do("GET", "/v1/my/application", cust, "", nil)).json(t)
		if st["status"] != "received" || !strings.HasPrefix(st["valid_until"].(string), "2031-04-01T10:00:00") {
			t.Fatalf("status before the end: %v", st)
		}
		e.must(200, e.do("GET", "/v1/my/certificate", cust, "", nil))
		if got := received(e.login("au-1")); len(got) != 2 {
			t.Fatalf("received view before the end: %v", got)
		}
		rows := e.consentRows(e.login("au-1"), "applicant="+url.QueryEscape("佐藤花子"))
		if len(rows) != 1 || rows[0]["applicant_name"] == nil {
			t.Fatalf("the consent is not kept 5 years: %v", rows)
		}
		return cust
	}

	// 4 years 364 days, then one minute before the end: everything is there.
	e.clock.Set(t0.AddDate(4, 0, 364))
	stillThere()
	e.clock.Set(t0.AddDate(5, 0, 0).Add(-time.Minute))
	cust := stillThere()

	// Past 5 years from completion: the jobs end both applications and the consent.
	e.clock.Set(t0.AddDate(5, 0, 0).Add(time.Minute))
	before := e.eventCount()
	e.runJobs(jobs...)
	if e.eventCount() != before+3 {
		t.Fatalf("retention end wrote %d events, want 3 (two applications, one consent)", e.eventCount()-before)
	}
	// The customer's still-valid token reads nothing any more; a new login fails.
	e.problem(e.do("GET", "/v1/my/application", cust, "", nil), 404, "application_not_found")
	e.problem(e.do("GET", "/v1/my/certificate", cust, "", nil), 404, "application_not_found")
	e.problem(e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"qr": web["qr"].(string)}), 401, "bad_credentials")
	staff = e.login("st-1")
	for _, qr := range []string{web["qr"].(string), proxy["qr"].(string)} {
		if r := e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": qr}); r.code != 404 && r.code != 410 {
			t.Fatalf("reception after the end of retention: %d %s", r.code, r.body)
		}
	}
	auditor = e.login("au-1")
	if got := received(auditor); len(got) != 0 {
		t.Fatalf("received view after the end: %v", got)
	}
	rows := e.consentRows(auditor, "store=store-A")
	if len(rows) != 1 || rows[0]["applicant_name"] != nil {
		t.Fatalf("consent row after the end: %v", rows)
	}
	if rows := e.consentRows(auditor, "applicant="+url.QueryEscape("佐藤")); len(rows) != 0 {
		t.Fatalf("the consent is still found by the applicant's name: %v", rows)
	}
	e.problem(e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("CN-0100")), 404, "consent_erased")
	var docs int
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM setup_consent_documents`).Scan(&docs); err != nil || docs != 0 {
		t.Fatalf("signed consent PDFs left: %d (%v)", docs, err)
	}
	// Stored events decode with every personal value Erased; no personal
	// string is left anywhere in the database.
	// Personal values: two applications' details, the web passcode, the
	// consent's parties, the certificate link's secret, the visitor and the
	// identity check; the plate and OBU number (vehicle, OBU, completion
	// notice with both, the certificate's vehicle items).
	if n := e.assertErased(streams...); n != 12 {
		t.Fatalf("%d personal values in the streams, want 12", n)
	}
	assertNoPersonalData(t, e, proxyPersonal...)

	// Run twice: nothing changes.
	before = e.eventCount()
	e.runJobs(jobs...)
	e.runJobs(jobs...)
	if e.eventCount() != before {
		t.Fatal("running the retention jobs again wrote events")
	}
}

func (e *env) count(query string) int {
	e.t.Helper()
	var n int
	if err := e.a.Pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestSetup_mail_server_down_loses_nothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	box := &smtptest.Inbox{}
	smtpServer := box.Serve(t, ln)
	e := startWith(t, box, func(cfg *app.Config) {
		cfg.SMTPAddr = addr
		cfg.BusRetry, cfg.BusRetryMax = 100*time.Millisecond, 400*time.Millisecond
	})
	staff := e.staff("st-1", "store-A", "store_staff")
	auditor := e.staff("au-1", "", "auditor")
	poisoned := func() {
		t.Helper()
		if n := e.count(`SELECT count(*) FROM bus.watermill_gantry_poison`); n != 0 {
			t.Fatalf("%d mails went to the poison queue", n)
		}
	}

	// Mail works, then the mail server goes down.
	first := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	box.Wait(t, 1)
	smtpServer.Close()

	// The first application's setup (its certificate link is due by mail)
	// and a second application (its mail is due).
	number := e.runSetup(staff, first["qr"].(string), "user", "山田太郎", "1234567890123456789")
	second := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	time.Sleep(300 * time.Millisecond) // the bus is trying to deliver them by now

	// The rest keeps working while mail is down: a third application is
	// answered at once and the read model is up to date.
	began := time.Now()
	third := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	if d := time.Since(began); d > time.Second {
		t.Fatalf("applying took %s while the mail server was down", d)
	}
	var awaiting []map[string]any
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/views/applications/awaiting", auditor, "", nil)).body, &awaiting)
	if len(awaiting) != 2 {
		t.Fatalf("awaiting view while mail is down: %v", awaiting)
	}

	// Retried well past the 8 attempts after which a mail used to go to the
	// poison queue: nothing arrives, nothing is poisoned, all is kept.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		poisoned()
		if e.count(`SELECT coalesce(max(attempts), 0) FROM bus.retries`) >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mails are not retried while the server is down")
		}
	}
	if n := len(box.All()); n != 1 {
		t.Fatalf("%d mails arrived, want only the one sent before the server went down", n)
	}
	if n := e.count(`SELECT count(*) FROM bus.retries`); n != 3 {
		t.Fatalf("%d mails wait for the server, want 3", n)
	}

	// The server comes back on the same address: each mail arrives once.
	if ln, err = net.Listen("tcp", addr); err != nil {
		t.Fatal(err)
	}
	box.Serve(t, ln)
	box.Wait(t, 4)
	time.Sleep(500 * time.Millisecond) // would a duplicate show up?
	mails := box.All()
	if len(mails) != 4 {
		t.Fatalf("%d mails, want 4 (three applications, one certificate link)", len(mails))
	}
	count := map[string]int{}
	for _, m := range mails[1:] {
		d := smtptest.Decode(m)
		for _, id := range []string{second["application_id"].(string), third["application_id"].(string)} {
			if strings.Contains(d, id) && strings.Contains(d, "申請が完了しました") {
				count[id]++
			}
		}
		if strings.Contains(d, "/v1/certificate-links/"+number+".") {
			count[number]++
		}
	}
	if len(count) != 3 || count[number] != 1 || count[second["application_id"].(string)] != 1 || count[third["application_id"].(string)] != 1 {
		t.Fatalf("mails after the server came back: %v", count)
	}
	poisoned()
	if n := e.count(`SELECT count(*) FROM bus.retries`); n != 0 {
		t.Fatalf("%d mails still parked", n)
	}
}
