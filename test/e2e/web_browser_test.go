package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/test/smtptest"
)

// TestWebJourney drives the web pages in headless Chromium: a customer on a
// phone applies (one regulation left unchecked first: the error shows beside
// it), reads the mail, and checks the status; a store receives the
// application on the management site, runs the steps, prints the
// certificate and re-mails the link; the customer then downloads the
// certificate. Every main page passes axe-core (no serious or critical
// violation) and is saved as a screenshot.
func TestWebJourney(t *testing.T) {
	e := start(t)
	axe := axeScript(t)
	dir := screenshotDir(t)
	b := browser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// The store S001 exists (its staff account made it).
	e.staff("st-web", "S001", "store_staff")

	// The customer, on a phone, opens the store's QR URL (a QR naming no
	// store shows the error beside the store).
	phone := tab(t, b, 390, 844, true)
	run(t, phone, "open a form naming no store", chromedp.Navigate(e.srv.URL+"/apply?store=S999"), chromedp.WaitVisible(css("#f-store-err")))
	run(t, phone, "open the form", chromedp.Navigate(e.srv.URL+"/apply?store=S001"), chromedp.WaitVisible(css("#f-applicant-name")))
	if got := text(t, phone, "#store-name"); got != "S001" {
		t.Fatalf("store prefilled = %q, want S001", got)
	}
	accessible(t, phone, axe, "apply")
	shot(t, phone, dir, "01-apply-phone")
	run(t, phone, "fill the form",
		chromedp.SetValue(css("#f-applicant-name"), "山田太郎"),
		chromedp.SetValue(css("#f-applicant-address"), "東京都品川区1-2-3"),
		chromedp.SetValue(css("#f-applicant-phone"), "03-1234-5678"),
		chromedp.SetValue(css("#f-applicant-email"), "taro.yamada@example.jp"),
		chromedp.SetValue(css("#f-vehicle_user"), "山田太郎"),
		chromedp.Click(css("#f-acceptances-personal_data_policy")),
		chromedp.Click(css("#f-acceptances-etc_system_terms")),
		chromedp.Click(css("#f-acceptances-probe_data_policy")),
		chromedp.Click(css("main form button[type=submit]")),
		chromedp.WaitVisible(css("#f-acceptances-dsrc_terms-err")))
	if msg := text(t, phone, "#f-acceptances-dsrc_terms-err"); !strings.Contains(msg, "同意") {
		t.Fatalf("error beside the DSRC regulation = %q", msg)
	}
	if v := get(t, phone, "kept value", chromedp.Value(css("#f-applicant-name"))); v != "山田太郎" {
		t.Fatalf("the form lost the name: %q", v)
	}
	accessible(t, phone, axe, "apply with error")
	shot(t, phone, dir, "02-apply-error-phone")
	run(t, phone, "accept the fourth and confirm",
		chromedp.Click(css("#f-acceptances-dsrc_terms")),
		chromedp.Click(css("main form button[type=submit]")),
		chromedp.WaitVisible(css("dl.summary")))
	accessible(t, phone, axe, "confirm")
	shot(t, phone, dir, "03-confirm-phone")
	run(t, phone, "apply", chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#application-id")))
	appID, pass := text(t, phone, "#application-id"), text(t, phone, "#passcode")
	if appID == "" || pass == "" {
		t.Fatal("no application ID or passcode on the completion page")
	}
	if !get(t, phone, "QR image", chromedp.Evaluate[bool](`(() => { const i = document.querySelector(".qr img"); return !!i && i.complete && i.naturalWidth > 100 })()`)) {
		t.Fatal("the completion page shows no QR image")
	}
	accessible(t, phone, axe, "applied")
	shot(t, phone, dir, "04-applied-phone")

	// The same form in English (?lang=en, kept in a cookie): labels, and
	// the domain's error beside its field in English; the switch leads
	// back to Japanese.
	en := tab(t, b, 390, 844, true)
	run(t, en, "English form", chromedp.Navigate(e.srv.URL+"/apply?store=S001&lang=en"), chromedp.WaitVisible(css("#f-applicant-name")))
	if h := text(t, en, "h1"); h != "ETC on-board unit setup application" {
		t.Fatalf("English heading = %q", h)
	}
	if l := text(t, en, `label[for="f-units"]`); !strings.HasPrefix(l, "Number of on-board units") {
		t.Fatalf("English label = %q", l)
	}
	run(t, en, "English errors", chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#f-applicant-name-err")))
	if msg := text(t, en, "#f-applicant-name-err"); !strings.Contains(msg, "applicant's name") {
		t.Fatalf("English error beside the name = %q", msg)
	}
	if l := get(t, en, "html lang", chromedp.Evaluate[string](`document.documentElement.lang`)); l != "en" {
		t.Fatalf("html lang = %q", l)
	}
	accessible(t, en, axe, "apply in English")
	shot(t, en, dir, "02-apply-english-phone")
	run(t, en, "back to Japanese", chromedp.Click(css("#lang-switch")), chromedp.WaitVisible(css("#h-customer")))
	if h := text(t, en, "h1"); h != "ETC車載器セットアップ" {
		t.Fatalf("after the switch, heading = %q", h)
	}

	mail := smtptest.Decode(e.inbox.Wait(t, 1)[0])
	if !strings.Contains(mail, appID) || !strings.Contains(mail, pass) {
		t.Fatalf("the mail lacks the ID or passcode:\n%s", mail)
	}

	// Status after login with the ID and passcode from the mail.
	run(t, phone, "log in",
		chromedp.Navigate(e.srv.URL+"/my/login"), chromedp.WaitVisible(css("#f-application_id")),
		chromedp.SetValue(css("#f-application_id"), appID), chromedp.SetValue(css("#f-passcode"), pass),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#received")))
	if got := text(t, phone, "#received"); got != "未受付" {
		t.Fatalf("status = %q, want 未受付", got)
	}
	if got := text(t, phone, "#days-left"); got != "59" && got != "60" {
		t.Fatalf("days left = %q, want 59 or 60", got)
	}
	accessible(t, phone, axe, "status")
	shot(t, phone, dir, "05-status-phone")

	// The store, on a PC.
	pc := tab(t, b, 1280, 900, false)
	run(t, pc, "staff login page", chromedp.Navigate(e.srv.URL+"/store"), chromedp.WaitVisible(css("#f-staff_id")))
	accessible(t, pc, axe, "staff login")
	run(t, pc, "staff login",
		chromedp.SetValue(css("#f-staff_id"), "st-web"), chromedp.SetValue(css("#f-password"), "pass-st-web-long"),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#h-receive")))
	// The application named S001 by its QR link: it awaits reception here.
	if aw := text(t, pc, "#awaiting"); !strings.Contains(aw, appID) || !strings.Contains(aw, "QRの店舗 S001") {
		t.Fatalf("the store's awaiting list does not show the application with its store:\n%s", aw)
	}
	// A wrong passcode shows beside the passcode field.
	run(t, pc, "wrong passcode",
		chromedp.SetValue(css("#f-application_id"), appID), chromedp.SetValue(css("#f-passcode"), "wrong-pass"),
		chromedp.Click(css(`form[action="/store/receive"] button`)), chromedp.WaitVisible(css("#f-passcode-err")))
	run(t, pc, "receive",
		chromedp.SetValue(css("#f-application_id"), appID), chromedp.SetValue(css("#f-passcode"), pass),
		chromedp.Click(css(`form[action="/store/receive"] button`)), chromedp.WaitVisible(css("#next-step")))
	accessible(t, pc, axe, "setup")
	shot(t, pc, dir, "06-setup-step-pc")
	submit := func(step string, fill ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		before := text(t, pc, "#next-step")
		fill = append(fill, chromedp.Click(css("#step-submit")))
		run(t, pc, step, fill...)
		waitFor(t, pc, step+" done", `document.readyState === "complete" && (document.querySelector("#next-step") === null || document.querySelector("#next-step").innerText !== `+jsString(before)+`)`)
		if n := get(t, pc, "error?", chromedp.Evaluate[int](`document.querySelectorAll(".alert,.error").length`)); n > 0 {
			failAt(t, pc, step, nil)
		}
	}
	submit("visitor", chromedp.SetValue(css("#f-name"), "山田太郎"), chromedp.SetValue(css("#f-id_document_type"), "運転免許証"), chromedp.Click(css("#f-document_checked")))
	submit("identity", chromedp.SetValue(css("#f-method"), "運転免許証"))
	submit("multiple units")
	submit("vehicle", chromedp.SetValue(css("#f-inspection_qr"), "JCI1/品川300あ1234/12345/0001/1850/普通乗用"))
	submit("obu", chromedp.SetValue(css("#f-number"), "1234567890123456789"))
	submit("card", chromedp.SetValue(css("#f-card_serial"), "CARD-1"), chromedp.SetValue(css("#f-written_hash"), "abcdef"))
	submit("execute")
	run(t, pc, "completion", chromedp.Click(css("#step-submit")), chromedp.WaitVisible(css("#certificate-number")))
	number := text(t, pc, "#certificate-number")
	accessible(t, pc, axe, "certificate")
	shot(t, pc, dir, "07-certificate-pc")

	// Print: the form's POST answers the PDF (fetched in the page, with the
	// session and CSRF token of the form).
	head := get(t, pc, "print", chromedp.Evaluate[string](`(async () => {
		const f = document.querySelector('form[action$="/print"]');
		const r = await fetch(f.action, {method: "POST", body: new FormData(f)});
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + " " + r.headers.get("content-type") + " " + String.fromCharCode(...b.slice(0, 5));
	})()`, chromedp.EvalAwaitPromise))
	if head != "200 application/pdf %PDF-" {
		t.Fatalf("print answered %q", head)
	}
	run(t, pc, "re-mail the link", chromedp.Click(css("#reissue")), chromedp.WaitVisible(css(".notice")))

	// The store's home lists the received application with its
	// certificate, and the issuance of the day.
	run(t, pc, "store home", chromedp.Navigate(e.srv.URL+"/store"), chromedp.WaitVisible(css("#stats")))
	if got := text(t, pc, "#stats tbody tr"); !regexp.MustCompile(`\d{4}-\d\d-\d\d\s+1\s+1`).MatchString(got) {
		t.Fatalf("issuance row = %q, want 1 issued and 1 print", got)
	}
	if !strings.Contains(text(t, pc, "main"), number) {
		t.Fatal("the received list does not link the certificate")
	}
	accessible(t, pc, axe, "store home")
	shot(t, pc, dir, "08-store-home-pc")

	// The customer sees the reception and downloads the certificate.
	run(t, phone, "status again", chromedp.Navigate(e.srv.URL+"/my"), chromedp.WaitVisible(css("#download")))
	if got := text(t, phone, "#received"); !strings.HasPrefix(got, "受付済み") {
		t.Fatalf("status = %q, want 受付済み", got)
	}
	pdf := get(t, phone, "download", chromedp.Evaluate[string](`fetch("/my/certificate").then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 5)))`, chromedp.EvalAwaitPromise))
	if pdf != "%PDF-" {
		t.Fatalf("certificate download = %q", pdf)
	}
	shot(t, phone, dir, "09-status-received-phone")

	// An auditor opens the application's history: a timeline with its
	// actors, and its state as of a day picked in the date field.
	e.staff("au-web", "", "auditor")
	au := tab(t, b, 1280, 900, false)
	run(t, au, "auditor login",
		chromedp.Navigate(e.srv.URL+"/staff/login"), chromedp.WaitVisible(css("#f-staff_id")),
		chromedp.SetValue(css("#f-staff_id"), "au-web"), chromedp.SetValue(css("#f-password"), "pass-au-web-long"),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#audit-form")))
	stream := "application-" + appID
	run(t, au, "history without a reason",
		chromedp.SetValue(css("#f-stream"), stream), chromedp.Click(css("#audit-submit")), chromedp.WaitVisible(css("#f-reason-err")))
	run(t, au, "history",
		chromedp.SetValue(css("#f-reason"), "定期監査"), chromedp.SetValue(css("#f-as_of"), "2026-04-01"),
		chromedp.Click(css("#audit-submit")), chromedp.WaitVisible(css("#timeline")))
	timeline := text(t, au, "#timeline")
	if !strings.Contains(timeline, "st-web") || !strings.Contains(timeline, "store_staff") {
		t.Fatalf("the timeline does not name the store staff who received it:\n%s", timeline)
	}
	// Each event's proof status against the newest signed checkpoint: the
	// application's first event is long signed, so its inclusion proof
	// checked against the signed root.
	if n := text(t, au, "#checkpoint-size"); n == "" || n == "0" {
		t.Fatalf("checkpoint size = %q", n)
	}
	if p := text(t, au, "#proof-1"); !strings.Contains(p, "証明済み") || !strings.Contains(p, "エントリ") {
		t.Fatalf("proof status of the first event = %q", p)
	}
	if st := text(t, au, "#state"); !strings.Contains(st, appID) {
		t.Fatalf("state as of 2026-04-01 = %q", st)
	}
	accessible(t, au, axe, "audit history")
	shot(t, au, dir, "13-audit-history-pc")
	run(t, au, "as of the day before",
		chromedp.SetValue(css("#f-as_of"), "2026-03-31"), chromedp.Click(css("#audit-submit")), chromedp.WaitVisible(css("#no-events")))
}

func jsString(s string) string {
	return "`" + strings.NewReplacer("`", "\\`", "\\", "\\\\", "$", "\\$").Replace(s) + "`"
}

// TestWebFinance: finance logs in, uploads a usage file with a bad line
// (the per-line report shows, nothing is imported), then a good one (with
// the upload's progress bar), runs billing for the month, finds the invoice
// by amount range, and opens it with its PDF and CSV; the totals chart is an
// SVG drawn by the server.
func TestWebFinance(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	lease := filepath.Join(t.TempDir(), "leases.csv")
	if err := os.WriteFile(lease, []byte("contract,customer_name,start,end,vehicles\nL-2026-001,株式会社 山田運輸,2026-01-01,2028-03-31,品川 300 あ 12-34\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.CardsCLI(ctx, e.a, []string{"lease", "import", lease}, &out); err != nil {
		t.Fatalf("lease import: %v %s", err, out.String())
	}
	admin := e.a.API.Tokens().Issue(api.Principal{Role: api.RoleOperatorAdmin, Subject: "ops-1"})
	e.must(201, e.do("POST", "/v1/contracts", admin, "", map[string]any{
		"contract": "L-2026-001", "customer_name": "株式会社　山田運輸", "alpha_name": "Yamada Unyu Co., Ltd.",
		"address": "東京都品川区1-2-3", "phone": "03-1234-5678", "representative": "山田 太郎",
		"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ヤマダウンユ"}))
	issued := e.must(201, e.do("POST", "/v1/cards", admin, "", map[string]string{"contract": "L-2026-001", "vehicle": "品川 300 あ 12-34", "card_type": "BLUE01"})).json(t)
	cardNo := issued["card"].(string)
	expiry, err := money.ParseYearMonth(issued["expiry"].(string))
	if err != nil {
		t.Fatalf("card expiry %v: %v", issued["expiry"], err)
	}
	e.must(201, e.do("POST", "/v1/admin/staff", admin, "", map[string]string{"staff_id": "fin-web", "role": "finance", "password": "pass-fin-web-long"}))

	axe := axeScript(t)
	dir := screenshotDir(t)
	b := browser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	pc := tab(t, b, 1280, 900, false)
	login := func() {
		run(t, pc, "finance login",
			chromedp.Navigate(e.srv.URL+"/staff/login"), chromedp.WaitVisible(css("#f-staff_id")),
			chromedp.SetValue(css("#f-staff_id"), "fin-web"), chromedp.SetValue(css("#f-password"), "pass-fin-web-long"),
			chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#usage-form")))
	}
	login()

	header := "record_id,operator,card_number,vehicle,entry_ic,entry_at,exit_ic,exit_at,toll\n"
	bad := filepath.Join(t.TempDir(), "usage-bad.csv")
	good := filepath.Join(t.TempDir(), "usage-202604.csv")
	_ = os.WriteFile(bad, []byte(header+"R-1,NEXCO-E,"+cardNo+",品川 300 あ 12-34,東京,2026-04-06 08:10:00,厚木,2026-04-06 08:55:00,1000\nR-2,NEXCO-E,"+cardNo+",品川 300 あ 12-34,厚木,2026-04-07 17:00:00,東京,2026-04-07 17:50:00,abc\n"), 0o644)
	_ = os.WriteFile(good, []byte(header+"R-1,NEXCO-E,"+cardNo+",品川 300 あ 12-34,東京,2026-04-06 08:10:00,厚木,2026-04-06 08:55:00,1000\nR-2,NEXCO-E,"+cardNo+",品川 300 あ 12-34,厚木,2026-04-07 17:00:00,東京,2026-04-07 17:50:00,2500\n"+
		"R-3,NEXCO-E,"+cardNo+",品川 300 え 99-99,東京,2026-04-05 09:00:00,横浜,2026-04-05 09:30:00,800\n"), 0o644)

	// The bad file is large and the network slow (512 KiB/s up), so the
	// progress bar is seen part way, with the rate and time left.
	var big strings.Builder
	big.WriteString(header)
	for i := 0; big.Len() < 3<<20; i++ {
		fmt.Fprintf(&big, "B-%d,NEXCO-E,%s,品川 300 あ 12-34,東京,2026-04-06 08:10:00,厚木,2026-04-06 08:55:00,1000\n", i, cardNo)
	}
	big.WriteString("R-2,NEXCO-E," + cardNo + ",品川 300 あ 12-34,厚木,2026-04-07 17:00:00,東京,2026-04-07 17:50:00,abc\n")
	if err := os.WriteFile(bad, []byte(big.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(big.String(), "\n")
	run(t, pc, "slow network", throttle(512<<10))
	run(t, pc, "upload a bad file", chromedp.SetUploadFiles(css("#f-file"), []string{bad}), chromedp.Click(css("#upload-submit")))
	waitFor(t, pc, "upload progress part way", `(() => { const b = document.querySelector("#upload-progress"); return !!b && b.value > 0 && b.value < 100 && /送信済み.*KiB\/秒.*残り約/.test(document.querySelector("#upload-status").textContent) })()`)
	shot(t, pc, dir, "10-finance-upload-progress-pc")
	waitLong(t, pc, "line report", `!!document.querySelector("#line-report")`) // the server loads the file's good rows first
	run(t, pc, "fast network", throttle(-1))
	if report := text(t, pc, "#line-report"); !strings.Contains(report, strconv.Itoa(lines)) {
		t.Fatalf("line report does not name line %d (the header is line 1): %s", lines, report)
	}
	accessible(t, pc, axe, "finance usage report")
	shot(t, pc, dir, "10-finance-usage-report-pc")
	run(t, pc, "upload the good file", chromedp.SetUploadFiles(css("#f-file"), []string{good}), chromedp.Click(css("#upload-submit")))
	waitFor(t, pc, "import result", `!!document.querySelector("#import-result")`)
	if got := text(t, pc, "#import-result"); !strings.Contains(got, "3 件を取り込みました") {
		t.Fatalf("import result = %q", got)
	}
	if v := get(t, pc, "progress", chromedp.Evaluate[string](`document.querySelector("#upload-progress") ? "present" : "absent"`)); v != "present" {
		t.Fatal("no progress bar")
	}
	// A large good file (June: not billed below): once it is sent, the
	// page shows the rows the server has imported so far, the rate and
	// the time left (polled from /finance/uploads/ID), then the result.
	const many = 200_000
	var large strings.Builder
	large.WriteString(header)
	for i := range many {
		fmt.Fprintf(&large, "M-%d,NEXCO-E,%s,品川 300 あ 12-34,東京,2026-06-%02d 08:10:00,厚木,2026-06-%02d 08:55:00,1000\n", i, cardNo, 1+i%28, 1+i%28)
	}
	largeFile := filepath.Join(t.TempDir(), "usage-202606.csv")
	if err := os.WriteFile(largeFile, []byte(large.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, pc, "upload a large file", chromedp.SetUploadFiles(css("#f-file"), []string{largeFile}), chromedp.Click(css("#upload-submit")))
	waitFor(t, pc, "rows imported part way", `/取り込み中：[1-9][0-9]* 行（推定 全 [0-9]+ 行）、[0-9.]+ 行\/秒、残り約/.test(document.querySelector("#upload-status").textContent)`)
	shot(t, pc, dir, "10-finance-import-rows-pc")
	waitLong(t, pc, "large import result", `(r => !!r && r.textContent.includes("`+strconv.Itoa(many)+` 件を取り込みました"))(document.querySelector("#import-result"))`)

	// The month is over (the session of 12 hours too: log in again).
	e.clock.Set(time.Date(2026, 5, 1, 9, 0, 0, 0, domain.Tokyo))
	login()
	// The run's page shows its progress (contracts done of all, rate) and
	// reloads itself until the run has ended, then the outcome.
	run(t, pc, "billing", chromedp.SetValue(css("#f-month"), "2026-04"), chromedp.Click(css("#billing-submit")), chromedp.WaitVisible(css("#billing-result")))
	if u := get(t, pc, "run URL", chromedp.Evaluate[string](`location.pathname`)); !strings.HasPrefix(u, "/finance/runs/") {
		t.Fatalf("billing run page = %s", u)
	}
	if p := get(t, pc, "billing progress", chromedp.Evaluate[string](`(b => b.value + "/" + b.max)(document.querySelector("#billing-progress"))`)); p != "1/1" {
		t.Fatalf("billing progress bar = %s, want 1/1", p)
	}
	if st := text(t, pc, "#billing-status"); !strings.Contains(st, "1 / 1") || !strings.Contains(st, "100%") || !strings.Contains(st, "件/秒") {
		t.Fatalf("billing progress text = %q", st)
	}
	accessible(t, pc, axe, "billing run")
	shot(t, pc, dir, "11-billing-run-pc")
	result := text(t, pc, "#billing-result tbody")
	m := regexp.MustCompile(`(\S+)\s+issued\s+¥([\d,]+)`).FindStringSubmatch(result)
	if m == nil {
		t.Fatalf("billing result = %q", result)
	}
	invoice := m[1]
	total, _ := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
	// Tolls 4,300 + issue fee 500 + annual fee 1,000 + 10% tax on the fees 150.
	if total != 5950 {
		t.Fatalf("invoice total = %d, want 5950", total)
	}
	search := func(min, max int) {
		run(t, pc, "search", chromedp.Navigate(e.srv.URL+"/finance"), chromedp.WaitVisible(css("#search-form")),
			chromedp.SetValue(css("#f-min_total"), strconv.Itoa(min)), chromedp.SetValue(css("#f-max_total"), strconv.Itoa(max)),
			chromedp.SetValue(css("#f-customer"), "山田"), chromedp.Click(css("#search-submit")))
		waitFor(t, pc, "search result", `!!document.querySelector("#invoices, #no-invoices")`)
	}
	search(total+1, total+1000)
	if get(t, pc, "none", chromedp.Evaluate[bool](`!!document.querySelector("#no-invoices")`)) == false {
		t.Fatal("a range above the total still finds the invoice")
	}
	search(total-100, total)
	if got := text(t, pc, "#invoices tbody"); !strings.Contains(got, invoice) {
		t.Fatalf("search by amount range: %q lacks %s", got, invoice)
	}
	if !get(t, pc, "chart", chromedp.Evaluate[bool](`document.querySelectorAll("figure svg rect").length === 1`)) {
		t.Fatal("the totals chart has no bar for the month")
	}
	accessible(t, pc, axe, "finance")
	shot(t, pc, dir, "11-finance-search-pc")

	// Renewals due: the card's notice falls due two months before its
	// expiry; a window without that month lists no card.
	notice := expiry.AddMonths(-2).String()
	renewals := func(from, to string) string {
		run(t, pc, "renewals "+from+".."+to, chromedp.Navigate(e.srv.URL+"/finance"), chromedp.WaitVisible(css("#renewals-form")),
			chromedp.SetValue(css("#f-notice_from"), from), chromedp.SetValue(css("#f-notice_to"), to), chromedp.Click(css("#renewals-submit")))
		waitFor(t, pc, "renewals count", `!!document.querySelector("#renewals-count")`)
		return text(t, pc, "#renewals-count")
	}
	if got := renewals(notice, notice); !strings.Contains(got, "1 枚") || !strings.Contains(text(t, pc, "#cards tbody"), cardNo) {
		t.Fatalf("renewals due in %s: %q", notice, got)
	}
	accessible(t, pc, axe, "renewals due")
	shot(t, pc, dir, "11-finance-renewals-pc")
	if got := renewals(expiry.AddMonths(-14).String(), expiry.AddMonths(-3).String()); !strings.Contains(got, "0 枚") {
		t.Fatalf("renewals due before %s: %q", notice, got)
	}
	search(total-100, total)

	run(t, pc, "invoice", chromedp.Click(css(`#invoices a`)), chromedp.WaitVisible(css("#invoice-total")))
	if got := text(t, pc, "#invoice-total"); got != "¥5,950" {
		t.Fatalf("invoice page total = %q", got)
	}
	for sel, want := range map[string]string{"#invoice-pdf": "%PDF-", "#invoice-csv": "invoice,card"} {
		got := get(t, pc, "download "+sel, chromedp.Evaluate[string](`fetch(document.querySelector("`+sel+`").href).then(r => r.text()).then(s => s.slice(0, `+strconv.Itoa(len(want))+`))`, chromedp.EvalAwaitPromise))
		if got != want {
			t.Errorf("%s starts %q, want %q", sel, got, want)
		}
	}
	accessible(t, pc, axe, "invoice")
	shot(t, pc, dir, "12-invoice-pc")

	// The two customer reports both list R-3 only: Sunday 2026-04-05, by
	// another vehicle than the card's.
	for _, kind := range []string{"kind-nbd", "kind-ov"} {
		run(t, pc, "report "+kind, chromedp.Navigate(e.srv.URL+"/finance/reports"), chromedp.WaitVisible(css("#report-form")),
			chromedp.Click(css("#"+kind)), chromedp.SetValue(css("#f-contract"), "L-2026-001"), chromedp.SetValue(css("#f-month"), "2026-04"),
			chromedp.Click(css("#report-submit")), chromedp.WaitVisible(css("#report")))
		rows := get(t, pc, "report rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#report tbody tr")].map(r => r.innerText)`))
		if len(rows) != 1 || !strings.Contains(rows[0], "2026-04-05") || !strings.Contains(rows[0], "え 99-99") {
			t.Fatalf("%s report rows = %q, want the Sunday passage by the other vehicle only", kind, rows)
		}
	}
	accessible(t, pc, axe, "report")
	shot(t, pc, dir, "14-report-pc")
}

// TestWebProxyFiling: on the store PC a staff member records a proxy consent
// (委任状) with its signed PDF — first with a file that is not a PDF (the
// error shows beside the file field) — then files an application by proxy
// under it; it shows among the proxy applications awaiting reception.
func TestWebProxyFiling(t *testing.T) {
	e := start(t)
	e.staff("st-proxy", "S002", "store_staff")
	axe := axeScript(t)
	dir := screenshotDir(t)
	b := browser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	pc := tab(t, b, 1280, 900, false)
	notPDF := filepath.Join(t.TempDir(), "consent.txt")
	pdf := filepath.Join(t.TempDir(), "consent.pdf")
	_ = os.WriteFile(notPDF, []byte("not a pdf"), 0o644)
	_ = os.WriteFile(pdf, []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), 0o644)

	run(t, pc, "login", chromedp.Navigate(e.srv.URL+"/store/consents/new"), chromedp.WaitVisible(css("#f-staff_id")),
		chromedp.SetValue(css("#f-staff_id"), "st-proxy"), chromedp.SetValue(css("#f-password"), "pass-st-proxy-long"),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#f-consent_id")))
	fill := func(file string) {
		run(t, pc, "fill the consent",
			chromedp.SetValue(css("#f-consent_id"), "C-WEB-1"),
			chromedp.SetValue(css("#f-applicant-name"), "佐藤花子"), chromedp.SetValue(css("#f-applicant-address"), "大阪府大阪市1-2-3"),
			chromedp.SetValue(css("#f-applicant-phone"), "06-1234-5678"),
			chromedp.SetUploadFiles(css("#f-signed_pdf"), []string{file}))
		get(t, pc, "tick", chromedp.Evaluate[bool](`document.querySelectorAll('#f-delegates_setup_application, [id^="f-acceptances-"]').forEach(c => c.checked = true), true`))
		run(t, pc, "send the consent", chromedp.Click(css(`form[action="/store/consents"] button[type=submit]`)))
	}
	fill(notPDF)
	run(t, pc, "not a PDF", chromedp.WaitVisible(css(".field .error")))
	if got := text(t, pc, "main"); !strings.Contains(got, "PDFファイルを選択してください") {
		t.Fatalf("no error beside the file field: %s", got)
	}
	fill(pdf)
	run(t, pc, "recorded", chromedp.WaitVisible(css(".notice")))
	accessible(t, pc, axe, "consent")
	shot(t, pc, dir, "15-consent-pc")

	run(t, pc, "proxy filing",
		chromedp.Click(css("#file-under")), chromedp.WaitVisible(css(`form[action="/store/proxy"]`)),
		chromedp.SetValue(css("#f-applicant-name"), "佐藤花子"), chromedp.SetValue(css("#f-applicant-address"), "大阪府大阪市1-2-3"),
		chromedp.SetValue(css("#f-applicant-phone"), "06-1234-5678"), chromedp.SetValue(css("#f-vehicle_user"), "佐藤花子"))
	get(t, pc, "tick", chromedp.Evaluate[bool](`document.querySelectorAll('[id^="f-acceptances-"]').forEach(c => c.checked = true), true`))
	run(t, pc, "file", chromedp.Click(css(`form[action="/store/proxy"] button[type=submit]`)), chromedp.WaitVisible(css("#application-id")))
	appID := text(t, pc, "#application-id")
	if v := get(t, pc, "consent prefilled", chromedp.Evaluate[string](`document.title`)); !strings.Contains(v, "代行申請") {
		t.Fatalf("title = %q", v)
	}
	accessible(t, pc, axe, "proxy filed")
	run(t, pc, "store home", chromedp.Navigate(e.srv.URL+"/store"), chromedp.WaitVisible(css("#h-awaiting")))
	if got := text(t, pc, "main"); !strings.Contains(got, appID) {
		t.Fatalf("the proxy application %s is not listed as awaiting reception", appID)
	}
}

// waitLong is waitFor for the end of an import, which on a loaded machine
// takes longer than waitFor's 15 s: it polls cond for up to 3 minutes.
func waitLong(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	waitWithin(t, ctx, what, cond, 3*time.Minute, 200*time.Millisecond)
}
