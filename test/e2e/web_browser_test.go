package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

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

	// The customer, on a phone, opens the store's QR URL.
	phone := tab(t, b, 390, 844, true)
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
	e.staff("st-web", "S001", "store_staff")
	pc := tab(t, b, 1280, 900, false)
	run(t, pc, "staff login page", chromedp.Navigate(e.srv.URL+"/store"), chromedp.WaitVisible(css("#f-staff_id")))
	accessible(t, pc, axe, "staff login")
	run(t, pc, "staff login",
		chromedp.SetValue(css("#f-staff_id"), "st-web"), chromedp.SetValue(css("#f-password"), "pass-st-web-long"),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("#h-receive")))
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
}

func jsString(s string) string {
	return "`" + strings.NewReplacer("`", "\\`", "\\", "\\\\", "$", "\\$").Replace(s) + "`"
}
