package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/projections/privacy"
)

// The erasure scans (issue 10): after a data subject's erasure, none of its
// personal strings is anywhere at rest: not in a pg_dump of the whole
// database, not in the heap (and TOAST and index) files of the database's
// relations, live or dead tuples alike, and not in the WAL segments written
// since the subject was created. This holds only because every copy was
// sealed under the subject's key from the start: WAL keeps whatever was
// ever written in plaintext.

// scanMark is where the WAL stood before the subject was created.
type scanMark struct{ wal string }

func (e *env) markWAL() scanMark {
	e.t.Helper()
	var wal string
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT pg_walfile_name(pg_current_wal_insert_lsn())`).Scan(&wal); err != nil {
		e.t.Fatal(err)
	}
	return scanMark{wal: wal}
}

// needles are the byte patterns of one personal string: as stored in UTF-8
// (heap, WAL, dump text) and as pg_dump writes a bytea (hex).
func needles(s string) [][]byte {
	return [][]byte{[]byte(s), []byte(hex.EncodeToString([]byte(s)))}
}

// scanEverything fails the test for every personal string found in the
// dump, a relation file or a WAL segment since m.
func (e *env) scanEverything(m scanMark, personal []string) {
	e.t.Helper()
	for _, f := range e.scan(m, personal) {
		e.t.Error(f)
	}
}

// scan returns where each personal string was found: in the dump, a
// relation file or a WAL segment since m.
func (e *env) scan(m scanMark, personal []string) (findings []string) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	pool := e.a.Pool
	if _, err := pool.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	var dataDir, version, db string
	if err := pool.QueryRow(ctx, `SELECT current_setting('data_directory'), current_setting('server_version_num'), current_database()`).Scan(&dataDir, &version, &db); err != nil {
		t.Fatal(err)
	}
	found := func(where string, b []byte) {
		for _, s := range personal {
			for _, n := range needles(s) {
				if i := bytes.Index(b, n); i >= 0 {
					findings = append(findings, fmt.Sprintf("%q is in %s", s, where))
					break
				}
			}
		}
	}

	// 1. pg_dump of the whole database, with Debian's binary of the
	// server's major version.
	pgDump := fmt.Sprintf("/usr/lib/postgresql/%s/bin/pg_dump", version[:len(version)-4])
	dump, err := exec.Command(pgDump, "--no-owner", "--dbname="+pgURL(pool.Config().ConnString())).Output()
	if err != nil {
		t.Fatalf("%s: %v", pgDump, err)
	}
	if !bytes.Contains(dump, []byte("CREATE TABLE public.events")) {
		t.Fatalf("the dump (%d bytes) has no events table: not a dump of the database", len(dump))
	}
	found("the pg_dump", dump)

	// 2. Every file of every relation of the database (heap, TOAST,
	// indexes; every fork and segment), dead tuples included.
	rows, err := pool.Query(ctx, `SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c WHERE pg_relation_filepath(c.oid) IS NOT NULL AND c.relkind IN ('r','t','i','m')`)
	if err != nil {
		t.Fatal(err)
	}
	files, bytesRead := 0, 0
	for rows.Next() {
		var rel, path string
		if err := rows.Scan(&rel, &path); err != nil {
			t.Fatal(err)
		}
		matches, _ := filepath.Glob(filepath.Join(dataDir, path) + "*")
		for _, f := range matches {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading %s: %v", f, err)
			}
			files, bytesRead = files+1, bytesRead+len(b)
			found(fmt.Sprintf("relation %s (%s)", rel, f), b)
		}
	}
	rows.Close()
	if files < 50 || bytesRead == 0 {
		t.Fatalf("read %d relation files, %d bytes: the scan did not find the database's files", files, bytesRead)
	}

	// 3. The WAL segments written since the mark.
	segs, err := pool.Query(ctx, `SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= $1 ORDER BY name`, m.wal)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for segs.Next() {
		var n string
		if err := segs.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	segs.Close()
	if len(names) == 0 {
		t.Fatalf("no WAL segment since %s", m.wal)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dataDir, "pg_wal", n))
		if err != nil {
			t.Fatalf("reading WAL %s: %v", n, err)
		}
		found("WAL segment "+n, b)
	}
	t.Logf("scanned: pg_dump %d bytes, %d relation files (%d bytes), %d WAL segments from %s", len(dump), files, bytesRead, len(names), m.wal)
	return findings
}

// pgURL drops pgx-only parameters pg_dump would refuse.
func pgURL(s string) string {
	return regexp.MustCompile(`[&?]pool_[a-z_]+=[^&]*`).ReplaceAllString(s, "")
}

// The control: the scan finds a subject's strings while they are still in
// plaintext somewhere (here: written on purpose into a scratch table), so
// that a clean scan means something.
func TestErasureScan_finds_plaintext(t *testing.T) {
	e := start(t)
	m := e.markWAL()
	if _, err := e.a.Pool.Exec(context.Background(), `CREATE TABLE scratch (v text); INSERT INTO scratch VALUES ('ZZ平文の氏名ZZ')`); err != nil {
		t.Fatal(err)
	}
	var dump, heap, wal bool
	for _, f := range e.scan(m, []string{"ZZ平文の氏名ZZ"}) {
		dump = dump || bytes.Contains([]byte(f), []byte("pg_dump"))
		heap = heap || bytes.Contains([]byte(f), []byte("relation scratch"))
		wal = wal || bytes.Contains([]byte(f), []byte("WAL segment"))
	}
	if !dump || !heap || !wal {
		t.Fatalf("plaintext found in the dump %v, the table's file %v, the WAL %v; want all three", dump, heap, wal)
	}
}

var (
	webSubject = map[string]any{"name": "鷺ノ宮虹子", "address": "東京都練馬区鷺ノ宮9-8-7", "phone": "03-9876-5432", "email": "nijiko.saginomiya@example.jp"}
	webStrings = []string{"鷺ノ宮虹子", "鷺ノ宮9-8-7", "03-9876-5432", "nijiko.saginomiya@example.jp"}
)

func webApplication(subject map[string]any, user string) map[string]any {
	return map[string]any{
		"details":     map[string]any{"applicant": subject, "vehicle_user": user},
		"acceptances": acceptedAll,
		"units":       1,
	}
}

// A web applicant never received: at 60 days the application expires and
// its key is destroyed.
func TestErasureScan_web_applicant_at_60_days(t *testing.T) {
	e := start(t)
	m := e.markWAL()
	e.must(201, e.doKey("POST", "/v1/applications", "", uuid.NewString() /* anonymous routes need an unguessable key */, webApplication(webSubject, "鷺ノ宮虹子")))
	e.inbox.Wait(t, 1)
	e.clock.Advance(61 * 24 * time.Hour)
	e.runJobs(app.JobExpireApplications)
	e.scanEverything(m, webStrings)
}

// A received applicant whose setup recorded a vehicle: 5 years after
// completion the retention ends and the application's key is destroyed,
// which erases the application, the setup's visitor, plate and OBU number,
// and the certificate's.
func TestErasureScan_received_applicant_at_5_years(t *testing.T) {
	e := start(t)
	m := e.markWAL()
	t0 := e.clock.Now()
	staff := e.staff("st-1", "store-A", "store_staff")
	web := e.must(201, e.do("POST", "/v1/applications", "", "", webApplication(webSubject, "鷺ノ宮虹子"))).json(t)
	e.inbox.Wait(t, 1)
	e.clock.Advance(24 * time.Hour)
	staff = e.login("st-1")
	number := e.runSetupWith(staff, web["qr"].(string), "鷺ノ宮虹子", "JCI1/練馬500ぬ9876/23456/0002/7950/普通貨物", "1987654321098765432")
	e.inbox.Wait(t, 2)
	id := web["application_id"].(string)
	before := e.privacyReport(id)
	if before.Key != "live" || before.Erased {
		t.Fatalf("before the erasure: %+v", before)
	}
	for _, where := range []string{"application-" + id, "certificate-" + number, "proj_setup_certificates.certificates (application_id)", "proj_setup_applications.applications (application_id)"} {
		if p, ok := before.place(where); !ok || where != "proj_setup_applications.applications (application_id)" && p.Erased {
			t.Fatalf("the report before the erasure misses %s or calls it erased: %+v", where, before.Places)
		}
	}
	if !before.has("stream", "setup-") || !before.has("bus", "") {
		t.Fatalf("the report misses the setup stream or the bus messages: %+v", before.Places)
	}
	e.clock.Set(t0.AddDate(5, 0, 0).Add(time.Minute))
	e.runJobs(app.JobEndRetention)
	after := e.privacyReport(id)
	if after.Key != "shredded" || !after.Erased || after.ShreddedAt == nil || len(after.Places) < len(before.Places) {
		t.Fatalf("after the erasure: %+v", after)
	}
	for _, p := range after.Places {
		if !p.Erased {
			t.Fatalf("after the erasure %s is not erased: %+v", p.Where, p)
		}
	}
	// The same report over HTTP, for the operator admin.
	admin := e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "root", "password": "bootstrap-password"})).json(t)["token"].(string)
	var overHTTP report
	if err := json.Unmarshal(e.must(200, e.do("GET", "/v1/admin/privacy/"+id, admin, "", nil)).body, &overHTTP); err != nil || overHTTP.Key != "shredded" || len(overHTTP.Places) != len(after.Places) {
		t.Fatalf("the report over HTTP: %+v, %v; want the CLI's", overHTTP, err)
	}
	e.scanEverything(m, append(webStrings, "練馬 500 ぬ 98-76", "練馬500ぬ9876", "1987654321098765432", "1987-6543-2109-8765-432"))
}

// A proxy consent with its signed PDF and the proxy application filed
// under it: 5 years after the last use the consent's key is destroyed.
func TestErasureScan_proxy_consent_at_5_years(t *testing.T) {
	e := start(t)
	m := e.markWAL()
	t0 := e.clock.Now()
	staff := e.staff("st-1", "store-A", "store_staff")
	subject := map[string]any{"corporation_name": "株式会社虹色運輸", "name": "蓼科薫子", "address": "長野県茅野市蓼科5-4-3",
		"phone": "0266-11-2233", "email": "kaoruko.tateshina@example.jp"}
	c := consent("CN-0900", "2026-04-01", 1, "", "", subject)
	c["signed_pdf"] = []byte("%PDF-1.4\n% 委任状 蓼科薫子 署名済み\n%%EOF\n")
	e.must(201, e.do("POST", "/v1/consents", staff, "", c))
	filing := proxyFiling("CN-0900")
	filing["details"] = map[string]any{"applicant": subject, "vehicle_user": "株式会社虹色運輸", "agent": proxyAgent}
	e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", filing))
	if rep := e.privacyReport("CN-0900"); rep.Key != "live" || !rep.has("document", "setup_consent_documents") || !rep.has("read_model", "proj_setup_consents.consents") || !rep.has("stream", "consent-CN-0900") {
		t.Fatalf("the consent's report before the erasure: %+v", rep)
	}
	e.clock.Set(t0.AddDate(5, 0, 0).Add(time.Minute))
	e.runJobs(app.JobExpireApplications, app.JobEndRetention, app.JobConsentRetention)
	if rep := e.privacyReport("CN-0900"); rep.Key != "shredded" || !rep.Erased || rep.has("document", "") || !rep.has("read_model", "proj_setup_consents.consents") {
		t.Fatalf("the consent's report after the erasure: %+v (the PDF row is deleted, the view row stays with its sealed parties)", rep)
	}
	e.scanEverything(m, []string{"蓼科薫子", "茅野市蓼科5-4-3", "0266-11-2233", "kaoruko.tateshina@example.jp", "株式会社虹色運輸", "署名済み", proxyAgent["name"].(string)})
}

type report struct {
	privacy.Report
}

func (r report) place(where string) (privacy.Place, bool) {
	for _, p := range r.Places {
		if p.Where == where {
			return p, true
		}
	}
	return privacy.Place{}, false
}

func (r report) has(kind, prefix string) bool {
	for _, p := range r.Places {
		if p.Kind == kind && strings.HasPrefix(p.Where, prefix) {
			return true
		}
	}
	return false
}

// privacyReport runs `gantry privacy report SUBJECT` and reads its JSON.
func (e *env) privacyReport(subject string) report {
	e.t.Helper()
	// The CLI reads the views: let them apply everything written so far
	// (this test's commands and jobs), as a query with Gantry-After would.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := e.a.Store.Head(ctx)
	if err == nil {
		err = e.a.Runner.WaitFor(ctx, head)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.PrivacyCLI(context.Background(), e.a, []string{"privacy", "report", subject}, &out); err != nil {
		e.t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		e.t.Fatalf("%v: %s", err, out.Bytes())
	}
	return r
}

// runSetupWith runs a whole setup with the given visitor, vehicle
// inspection QR and OBU number; it returns the certificate number.
func (e *env) runSetupWith(staff, qr, visitor, inspectionQR, obu string) string {
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
	step("visitor", map[string]any{"Kind": "user", "Name": visitor, "IDDocumentType": "運転免許証", "DocumentChecked": true})
	step("identity", map[string]any{"Passed": true, "Method": "運転免許証"})
	step("multiple-units", map[string]any{"Multiple": false})
	step("vehicle", map[string]any{"inspection_qr": inspectionQR})
	step("obu", map[string]string{"kind": "ETC2.0", "number": obu})
	v = e.cardStep(staff, sid, v)
	step("execute", map[string]any{})
	return step("completion", nil)["certificate_number"].(string)
}
