package e2e

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/tlog"
	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/test/smtptest"
	"github.com/gantry-etc/gantry/test/tlogclient"
)

func startLog(t *testing.T) (*env, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &smtptest.Inbox{}
	box.Serve(t, ln)
	dir := t.TempDir()
	e := startWith(t, box, func(cfg *app.Config) {
		cfg.SMTPAddr = ln.Addr().String()
		cfg.Extra["GANTRY_CHECKPOINT_DIR"] = dir
	})
	return e, dir
}

// awaitCheckpoint polls the served checkpoint until it covers at least n entries.
func awaitCheckpoint(t *testing.T, c *tlogclient.Client, vkey string, n int64) tlogclient.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, err := c.Checkpoint(vkey)
		if err == nil && cp.Tree.N >= n {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries within 20s (last: %+v, %v)", n, cp.Tree, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLogVerifiedByAnIndependentClient: a client written against the specs
// only (test/tlogclient) fetches the checkpoint and tiles over HTTP, proves
// an application's first event included, and two checkpoints consistent.
func TestLogVerifiedByAnIndependentClient(t *testing.T) {
	e, dir := startLog(t)
	// The verifier key, as published.
	r, err := http.Get(e.srv.URL + "/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	keyBody, _ := io.ReadAll(r.Body)
	r.Body.Close()
	vkey := strings.TrimSpace(string(keyBody))
	signer, _ := tlog.NewSigner(app.TestLogKey)
	if vkey != signer.VerifierKey() {
		t.Fatalf("served key %q is not the configured key's %q", vkey, signer.VerifierKey())
	}

	id, _, _ := e.apply()
	n1 := int64(e.eventCount())
	c := &tlogclient.Client{URL: e.srv.URL + "/v1/log"}
	cp1 := awaitCheckpoint(t, c, vkey, n1)

	entries, err := c.Entries(cp1.Tree.N)
	if err != nil {
		t.Fatal(err)
	}
	chosen := int64(-1)
	for i, en := range entries {
		if s, v, err := tlogclient.EntryStream(en); err == nil && s == "application-"+id && v == 1 {
			chosen = int64(i)
		}
	}
	if chosen < 0 {
		t.Fatalf("application-%s@1 is not among the %d entries", id, len(entries))
	}
	if err := c.VerifyInclusion(cp1.Tree, chosen, entries[chosen]); err != nil {
		t.Fatalf("inclusion: %v", err)
	}
	// A changed entry does not verify.
	forged := bytes.Clone(entries[chosen])
	forged[len(forged)-1] ^= 1
	if err := c.VerifyInclusion(cp1.Tree, chosen, forged); err == nil {
		t.Fatal("a forged entry verified")
	}

	// More events, a later checkpoint, consistent with the first.
	for i := 0; i < 3; i++ {
		e.apply()
	}
	n2 := int64(e.eventCount())
	cp2 := awaitCheckpoint(t, c, vkey, n2)
	if cp2.Tree.N <= cp1.Tree.N {
		t.Fatalf("sizes %d then %d", cp1.Tree.N, cp2.Tree.N)
	}
	if err := c.VerifyConsistency(cp1.Tree, cp2.Tree); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	if err := c.VerifyInclusion(cp2.Tree, chosen, entries[chosen]); err != nil {
		t.Fatalf("inclusion in the later tree: %v", err)
	}

	// Caching headers (C2SP tlog-tiles): tiles immutable, the checkpoint short.
	for path, want := range map[string]string{"checkpoint": "max-age=1", "tile/entries/000.p/1": "immutable", "tile/0/000.p/1": "immutable"} {
		r, err := http.Get(c.URL + "/" + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), want) {
			t.Errorf("%s: %d, Cache-Control %q, want %q", path, r.StatusCode, r.Header.Get("Cache-Control"), want)
		}
	}
	for path, want := range map[string]int{"tile/0/999": 404, "tile/0/x1": 404, "tile/entries/000.p/300": 404} {
		if got := e.do("GET", "/v1/log/"+path, "", "", nil); got.code != want || got.ctype != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d problem", path, got.code, got.ctype, want)
		}
	}

	// Witnessing outside the database: the directory and the bus.
	files, err := tlog.ReadCheckpointDir(dir)
	if err != nil || len(files) < 2 {
		t.Fatalf("checkpoint files: %d, %v", len(files), err)
	}
	newest := files[len(files)-1]
	if got, err := tlog.OpenCheckpoint(newest.Note, vkey); err != nil || got.Size < cp2.Tree.N || filepath.Ext(newest.Path) != ".checkpoint" {
		t.Fatalf("newest file %s: %+v %v", newest.Path, got, err)
	}
	// gantry verify against a checkpoint fetched by URL (a witness's copy).
	var vout bytes.Buffer
	if intact, err := app.VerifyLog(context.Background(), e.a, []string{"--checkpoints", c.URL + "/checkpoint"}, &vout); err != nil || !intact {
		t.Fatalf("verify against the served checkpoint: %v %v\n%s", intact, err, vout.String())
	}
	if !strings.Contains(vout.String(), "log intact") {
		t.Fatalf("verify said: %s", vout.String())
	}
	var published int
	if err := e.a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM bus.watermill_gantry_checkpoints`).Scan(&published); err != nil || published < 2 {
		t.Fatalf("checkpoints on the bus: %d, %v", published, err)
	}
}

// TestAuditExportOverHTTP: a regulator's bundle verifies offline and holds
// no personal data in plaintext; other roles get no bundle.
func TestAuditExportOverHTTP(t *testing.T) {
	e, _ := startLog(t)
	id, _, _ := e.apply()
	c := &tlogclient.Client{URL: e.srv.URL + "/v1/log"}
	signer, _ := tlog.NewSigner(app.TestLogKey)
	awaitCheckpoint(t, c, signer.VerifierKey(), int64(e.eventCount()))

	reg := e.staff("reg-1", "", "regulator")
	got := e.must(200, e.do("GET", "/v1/audit/exports?subject="+id, reg, "", nil))
	if got.ctype != "application/x-tar" {
		t.Fatalf("content type %q", got.ctype)
	}
	rep, err := tlog.VerifyBundle(bytes.NewReader(got.body), tlog.BundleCheck{VerifierKey: signer.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events < 1 {
		t.Fatalf("no events for application %s", id)
	}
	for _, personal := range []string{"山田", "品川区", "taro.yamada", "03-1234-5678"} {
		if bytes.Contains(got.body, []byte(personal)) {
			t.Errorf("the regulator's bundle contains %q in plaintext", personal)
		}
	}
	// The CLI verifies the same file.
	path := filepath.Join(t.TempDir(), "b.tar")
	if err := os.WriteFile(path, got.body, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if handled, err := app.OfflineCLI([]string{"audit", "verify", path, "--vkey", signer.VerifierKey()}, "", &out); !handled || err != nil {
		t.Fatalf("gantry audit verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "VERIFIED") || !strings.Contains(out.String(), "inclusion proof") {
		t.Fatalf("report: %s", out.String())
	}

	e.must(400, e.do("GET", "/v1/audit/exports?subject="+id+"&as_of=2026-04-01", reg, "", nil))
	e.must(400, e.do("GET", "/v1/audit/exports", reg, "", nil))
	e.must(400, e.do("GET", "/v1/audit/exports?from=2026-05-01&to=2026-04-01", reg, "", nil))
	e.must(403, e.do("GET", "/v1/audit/exports?subject="+id, e.staff("st-1", "store-A", "store_staff"), "", nil))
	e.must(401, e.do("GET", "/v1/audit/exports?subject="+id, "", "", nil))
}

// TestSignerRefusesAnInconsistentTree: after the stored tree hashes are
// rewritten, Gantry signs nothing more and /healthz says why.
func TestSignerRefusesAnInconsistentTree(t *testing.T) {
	e, _ := startLog(t)
	e.apply()
	c := &tlogclient.Client{URL: e.srv.URL + "/v1/log"}
	signer, _ := tlog.NewSigner(app.TestLogKey)
	before := awaitCheckpoint(t, c, signer.VerifierKey(), int64(e.eventCount()))
	ops := httptest.NewServer(e.a.API.OpsHandler())
	defer ops.Close()
	// /metrics: nothing refused, the newest checkpoint's size and age.
	m := metricsOf(t, ops.URL)
	if m["gantry_log_signer_refusals_total"] != 0 || m["gantry_log_signer_refusing"] != 0 ||
		m["gantry_log_signed_tree_size"] < float64(before.Tree.N) || m["gantry_log_last_signed_age_seconds"] < 0 {
		t.Fatalf("signer metrics before the rewrite: %v", m)
	}
	if _, err := e.a.Pool.Exec(context.Background(), `UPDATE tlog_entries SET hashes = decode(repeat('00', length(hashes)), 'hex')`); err != nil {
		t.Fatal(err)
	}
	e.apply()
	// The reason is on the operators' listener; the public /healthz only
	// says unavailable.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := getBody(t, ops.URL+"/healthz")
		if code == 503 && strings.Contains(body, "transparency log: not signing") {
			if r := e.do("GET", "/healthz", "", "", nil); r.code != 503 || strings.Contains(string(r.body), "transparency") {
				t.Fatalf("public healthz: %d %s, want a bare 503", r.code, r.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ops healthz: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	after, err := c.Checkpoint(signer.VerifierKey())
	if err != nil || after.Tree != before.Tree {
		t.Fatalf("a checkpoint was signed after the tree was rewritten: %+v then %+v (%v)", before.Tree, after.Tree, err)
	}
	// /metrics counts the refusals and says the signer is refusing; the
	// newest signed size stays the one before the rewrite.
	m = metricsOf(t, ops.URL)
	if m["gantry_log_signer_refusals_total"] < 1 || m["gantry_log_signer_refusing"] != 1 || m["gantry_log_signed_tree_size"] != float64(after.Tree.N) {
		t.Fatalf("signer metrics after the refusal: %v", m)
	}
}

// metricsOf reads the gantry_log_* samples of the ops /metrics.
func metricsOf(t *testing.T, ops string) map[string]float64 {
	t.Helper()
	code, body := getBody(t, ops+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "gantry_log_") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[name] = v
	}
	return out
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}
