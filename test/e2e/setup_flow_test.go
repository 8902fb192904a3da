package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gantry-etc/gantry/test/smtptest"
)

func TestSetup_self_filed_end_to_end(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")

	app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	id, qr := app["application_id"].(string), app["qr"].(string)

	mails := e.inbox.Wait(t, 1)
	m := smtptest.Decode(mails[0])
	if !strings.Contains(m, id) || !strings.Contains(m, app["passcode"].(string)) || !strings.Contains(mails[0], "image/png") {
		t.Fatalf("application mail lacks ID, passcode or QR image:\n%s", m)
	}

	rec := e.must(201, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": qr})).json(t)
	sid := rec["setup_id"].(string)
	v := int64(rec["version"].(float64))
	stepTo := func(path string, body any) {
		t.Helper()
		r := e.must(200, e.do("POST", "/v1/setups/"+sid+"/"+path, staff, q(v), body)).json(t)
		if n, ok := r["version"].(float64); ok {
			v = int64(n)
		}
	}
	// Out of order: the OBU before the visitor → 409 naming the expected step.
	bad := e.must(409, e.do("POST", "/v1/setups/"+sid+"/obu", staff, q(v), map[string]string{"kind": "ETC2.0", "number": "1234567890123456789"}))
	if !strings.Contains(string(bad.body), "visitor") {
		t.Fatalf("409 does not name the expected step: %s", bad.body)
	}
	stepTo("visitor", map[string]any{"Kind": "user", "Name": "山田太郎", "IDDocumentType": "運転免許証", "DocumentChecked": true})
	stepTo("identity", map[string]any{"Passed": true, "Method": "運転免許証"})
	stepTo("multiple-units", map[string]any{"Multiple": false})
	stepTo("vehicle", map[string]any{"inspection_qr": "JCI1/品川300あ1234/12345/0001/1850/普通乗用"})
	// Invalid OBU number: 422 and nothing written.
	before := e.eventCount()
	e.must(422, e.do("POST", "/v1/setups/"+sid+"/obu", staff, q(v), map[string]string{"kind": "ETC2.0", "number": "12345"}))
	if e.eventCount() != before {
		t.Fatal("an invalid OBU number wrote events")
	}
	stepTo("obu", map[string]string{"kind": "ETC2.0", "number": "1234567890123456789"})
	v = e.cardStep(staff, sid, v)
	stepTo("execute", map[string]any{})
	done := e.must(200, e.do("POST", "/v1/setups/"+sid+"/completion", staff, q(v), nil)).json(t)
	number := done["certificate_number"].(string)

	mails = e.inbox.Wait(t, 2)
	link := regexp.MustCompile(`http://gantry.test(/v1/certificate-links/\S+)`).FindStringSubmatch(smtptest.Decode(mails[1]))
	if link == nil {
		t.Fatalf("no link in mail: %s", smtptest.Decode(mails[1]))
	}
	pdf := e.must(200, e.do("GET", link[1], "", "", nil))
	title, subject := pdfInfo(pdf.body, "Title"), pdfInfo(pdf.body, "Subject")
	if !bytes.HasPrefix(pdf.body, []byte("%PDF-")) || !bytes.Contains(pdf.body, []byte("FontFile2")) || !strings.Contains(title, number) {
		t.Fatal("download is not the certificate PDF with an embedded font and its number")
	}
	code := regexp.MustCompile(`verification ([A-Z2-7-]+)`).FindStringSubmatch(subject)
	if code == nil {
		t.Fatal("no verification code in the PDF")
	}
	ver := e.must(200, e.do("GET", "/v1/verify/"+string(code[1]), "", "", nil)).json(t)
	if ver["content"].(map[string]any)["number"] != number {
		t.Fatalf("verification answers %v", ver)
	}
	e.must(404, e.do("GET", "/v1/verify/AAAA-BBBB-CCCC-DDDD-EEEE", "", "", nil))

	// Expired link: 60 days after sending → 410, nothing written.
	e.clock.Advance(60 * 24 * time.Hour)
	before = e.eventCount()
	e.must(410, e.do("GET", link[1], "", "", nil))
	if e.eventCount() != before {
		t.Fatal("an expired link wrote events")
	}
}

func TestSetup_bad_input_writes_nothing(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	before := e.eventCount()

	noReg := map[string]any{"details": applicant["details"], "acceptances": map[string]bool{"personal_data_policy": true}, "units": 1}
	r := e.must(422, e.do("POST", "/v1/applications", "", "", noReg))
	if !strings.Contains(string(r.body), "acceptances") {
		t.Fatalf("problem does not name the regulation: %s", r.body)
	}
	e.must(422, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": "NOT-A-QR"}))
	if e.eventCount() != before {
		t.Fatal("bad input wrote events")
	}
	// Wrong passcodes: each is recorded (that is the rule), the fifth locks.
	for i := 1; i <= 5; i++ {
		staff = e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-1", "password": "pass-st-1-long"})).json(t)["token"].(string)
		r := e.do("POST", "/v1/receptions", staff, "", map[string]string{"application_id": app["application_id"].(string), "passcode": "WRONGPASS1"})
		if i < 5 && r.code != 422 || i == 5 && r.code != 423 {
			t.Fatalf("attempt %d: %d %s", i, r.code, r.body)
		}
	}
	e.must(423, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": app["qr"].(string)}))
}

func TestSetup_two_tablets_one_wins(t *testing.T) {
	e := start(t)
	s1 := e.staff("st-1", "store-A", "store_staff")
	s2 := e.staff("st-2", "store-A", "store_staff")
	app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, tok := range []string{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.do("POST", "/v1/receptions", tok, "", map[string]string{"qr": app["qr"].(string)}).code
		}()
	}
	wg.Wait()
	if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
		t.Fatalf("codes %v, want one 201 and one 409", codes)
	}
}

func TestSetup_expiry_at_60_days_leaves_no_personal_data(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	e.inbox.Wait(t, 1)
	ctx := context.Background()

	e.clock.Advance(59*24*time.Hour + 23*time.Hour)
	if err := e.a.RunJob(ctx, "setup-expire-applications"); err != nil {
		t.Fatal(err)
	}
	cust := e.must(200, e.do("POST", "/v1/auth/customer/login", "", "", map[string]string{"qr": app["qr"].(string)})).json(t)["token"].(string)
	e.must(200, e.do("GET", "/v1/my/application", cust, "", nil))

	e.clock.Advance(time.Hour)
	for i := 0; i < 2; i++ { // idempotent
		if err := e.a.RunJob(ctx, "setup-expire-applications"); err != nil {
			t.Fatal(err)
		}
	}
	e.must(404, e.do("GET", "/v1/my/application", cust, "", nil))
	staff = e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-1", "password": "pass-st-1-long"})).json(t)["token"].(string)
	r := e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": app["qr"].(string)})
	if r.code != 410 && r.code != 404 {
		t.Fatalf("reception after 60 days: %d %s", r.code, r.body)
	}
	assertNoPersonalData(t, e)
}

// assertNoPersonalData scans every table of the database (events, outbox,
// projections) for the applicant's name, e-mail and phone, and for more.
func assertNoPersonalData(t *testing.T, e *env, more ...string) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.a.Pool.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema') AND table_type='BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables [][2]string
	for rows.Next() {
		var s, n string
		_ = rows.Scan(&s, &n)
		tables = append(tables, [2]string{s, n})
	}
	rows.Close()
	for _, tb := range tables {
		var dump string
		if err := e.a.Pool.QueryRow(ctx, `SELECT coalesce(string_agg(x::text, E'\n'), '') FROM "`+tb[0]+`"."`+tb[1]+`" x`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		for _, s := range append([]string{"山田太郎", "taro.yamada@example.jp", "03-1234-5678"}, more...) {
			if strings.Contains(dump, s) {
				t.Errorf("%s.%s still holds %q", tb[0], tb[1], s)
			}
		}
	}
}

// pdfInfo decodes a UTF-16 hex string of the PDF's Info dictionary.
func pdfInfo(pdf []byte, key string) string {
	m := regexp.MustCompile(`/` + key + ` <FEFF([0-9A-Fa-f]+)>`).FindSubmatch(pdf)
	if m == nil {
		return ""
	}
	b, _ := hex.DecodeString(string(m[1]))
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}
