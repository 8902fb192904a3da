package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands/accounts"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
)

func TestStaffAccounts(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := postgres.StaffAccounts{Pool: pool}
	admin := accounts.StaffAccount{StaffID: "ST01", StoreID: "S001", StoreName: "品川店", Role: accounts.RoleStoreAdmin, PasswordHash: "h1"}
	if ok, err := s.InsertStaff(ctx, admin); !ok || err != nil {
		t.Fatalf("insert: %v, %v", ok, err)
	}
	// A taken staff ID writes nothing, not even the new store.
	if ok, err := s.InsertStaff(ctx, accounts.StaffAccount{StaffID: "ST01", StoreID: "S002", StoreName: "x", Role: accounts.RoleStoreStaff, PasswordHash: "h2"}); ok || err != nil {
		t.Fatalf("second insert: %v, %v; want not inserted", ok, err)
	}
	var stores int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM setup_stores`).Scan(&stores); err != nil || stores != 1 {
		t.Fatalf("stores %d, %v; want the first store only", stores, err)
	}
	auditor := accounts.StaffAccount{StaffID: "AU01", Role: "auditor", PasswordHash: "h3"}
	if ok, err := s.InsertStaff(ctx, auditor); !ok || err != nil {
		t.Fatalf("insert auditor: %v, %v", ok, err)
	}
	for _, want := range []accounts.StaffAccount{admin, auditor} {
		got, found, err := s.FindStaff(ctx, want.StaffID)
		want.StoreName = ""
		if !found || err != nil || got != want {
			t.Fatalf("find %s: %+v, %v, %v; want %+v", want.StaffID, got, found, err, want)
		}
	}
	if _, found, err := s.FindStaff(ctx, "NOBODY"); found || err != nil {
		t.Fatalf("unknown: %v, %v", found, err)
	}
}

func TestConsentDocuments(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	kek := make([]byte, 32)
	sealer, err := es.NewSealer(kek, postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	d := postgres.ConsentDocuments{Pool: pool, Sealer: sealer}
	ref, err := putPDF(ctx, t, pool, d, "C-1", "%PDF-1 signed by YAMADA")
	if err != nil || ref != "sha256:"+hex.EncodeToString(sha(`%PDF-1 signed by YAMADA`)) {
		t.Fatalf("ref %q, %v", ref, err)
	}
	again, err := putPDF(ctx, t, pool, d, "C-1", "%PDF-1 signed by YAMADA")
	if err != nil || again != ref {
		t.Fatalf("retry: %q, %v; want the same reference", again, err)
	}
	var stored []byte
	if err := pool.QueryRow(ctx, `SELECT pdf FROM setup_consent_documents`).Scan(&stored); err != nil || bytes.Contains(stored, []byte("YAMADA")) {
		t.Fatalf("the PDF rests in plaintext: %q, %v", stored, err)
	}
	if pdf, found, erased, err := d.ConsentPDF(ctx, "C-1", ref); string(pdf) != "%PDF-1 signed by YAMADA" || !found || erased || err != nil {
		t.Fatalf("read back: %q %v %v %v", pdf, found, erased, err)
	}
	if err := sealer.Shred(ctx, "C-1"); err != nil {
		t.Fatal(err)
	}
	if pdf, found, erased, err := d.ConsentPDF(ctx, "C-1", ref); pdf != nil || !found || !erased || err != nil {
		t.Fatalf("after shredding: %q %v %v %v; want found and erased", pdf, found, erased, err)
	}
	if _, _, err := d.ConsentPDFWrite(ctx, "C-1", []byte("%PDF-2")); !errors.Is(err, es.ErrShredded) {
		t.Fatalf("storing a PDF of a shredded consent: %v; want ErrShredded", err)
	}
	if err := d.DeleteConsentPDF(ctx, "C-1"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM setup_consent_documents`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d documents left, %v", n, err)
	}
	if err := d.DeleteConsentPDF(ctx, "C-1"); err != nil {
		t.Fatalf("deleting a deleted PDF: %v", err)
	}
}

// putPDF stores a PDF on its own, outside any append (as the earlier
// design did), through the write ConsentPDFWrite returns.
func putPDF(ctx context.Context, t *testing.T, pool *pgxpool.Pool, d postgres.ConsentDocuments, consent, pdf string) (string, error) {
	t.Helper()
	ref, write, err := d.ConsentPDFWrite(ctx, consent, []byte(pdf))
	if err != nil {
		return "", err
	}
	return ref, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return write(ctx, txExec{tx}) })
}

type txExec struct{ tx pgx.Tx }

func (e txExec) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := e.tx.Exec(ctx, sql, args...)
	return err
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// A PDF whose consent event never came (the append failed, or another
// store won the consent ID) is an orphan: purged after the grace period;
// the PDF its consent event references stays.
func TestConsentDocumentsPurgeOrphans(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	sealer, err := es.NewSealer(make([]byte, 32), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	d := postgres.ConsentDocuments{Pool: pool, Sealer: sealer}
	kept, err := putPDF(ctx, t, pool, d, "C-1", "%PDF-1 winner")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := putPDF(ctx, t, pool, d, "C-1", "%PDF-1 loser"); err != nil {
		t.Fatal(err)
	}
	if _, err := putPDF(ctx, t, pool, d, "C-2", "%PDF-1 never appended"); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewStore(pool, clock{})
	if _, err := store.Append(ctx, "consent-C-1", es.NoStream, es.Metadata{}, es.EventData{ID: es.NewEventID(), Type: "application.consent_recorded", SchemaVersion: 1,
		Data: []byte(`{"consent_id":"C-1","signed_pdf":"` + kept + `"}`)}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.PurgeOrphans(ctx, time.Hour); n != 0 || err != nil {
		t.Fatalf("within the grace period: %d purged, %v", n, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE setup_consent_documents SET stored_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	if n, err := d.PurgeOrphans(ctx, time.Hour); n != 2 || err != nil {
		t.Fatalf("after the grace period: %d purged, %v; want the loser's and the never-appended PDF", n, err)
	}
	if pdf, found, _, err := d.ConsentPDF(ctx, "C-1", kept); !found || string(pdf) != "%PDF-1 winner" || err != nil {
		t.Fatalf("the referenced PDF: %q %v %v", pdf, found, err)
	}
}

// The PDF commits in its consent event's transaction: an append refused
// for a wrong version, or rolled back, leaves no PDF; a failing PDF write
// leaves no event; a re-sent command writes the PDF once.
func TestConsentPDFCommitsWithItsEvent(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	sealer, err := es.NewSealer(make([]byte, 32), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	d := postgres.ConsentDocuments{Pool: pool, Sealer: sealer}
	store := postgres.NewStore(pool, clock{})
	count := func(table string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ev := func() es.StreamAppend {
		return es.StreamAppend{Stream: "consent-C-1", Expected: es.NoStream, Events: []es.EventData{{ID: es.NewEventID(), Type: "application.consent_recorded", SchemaVersion: 1, Data: []byte(`{}`)}}}
	}
	_, write, err := d.ConsentPDFWrite(ctx, "C-1", []byte("%PDF-1 first"))
	if err != nil {
		t.Fatal(err)
	}

	// A wrong expected version: no event, no PDF.
	wrong := ev()
	wrong.Expected = 3
	if _, err := store.AppendManyInTx(ctx, es.Metadata{}, write, wrong); !errors.Is(err, es.ErrWrongExpectedVersion) {
		t.Fatalf("wrong version: %v", err)
	}
	if n := count("setup_consent_documents"); n != 0 {
		t.Fatalf("a refused append left %d PDFs", n)
	}

	// The PDF write fails after the events were written: both roll back.
	boom := errors.New("disk full")
	failing := func(ctx context.Context, tx es.TxExec) error {
		if err := write(ctx, tx); err != nil {
			return err
		}
		return boom
	}
	if _, err := store.AppendManyInTx(ctx, es.Metadata{}, failing, ev()); !errors.Is(err, boom) {
		t.Fatalf("failing write: %v", err)
	}
	if n, m := count("setup_consent_documents"), count("events"); n != 0 || m != 0 {
		t.Fatalf("a failed append left %d PDFs and %d events", n, m)
	}

	// Committed together; a re-sent command keeps no second write.
	md := es.Metadata{CommandID: "cmd-1"}
	if res, err := store.AppendManyInTx(ctx, md, write, ev()); err != nil || res[0].Duplicate {
		t.Fatalf("append: %+v, %v", res, err)
	}
	_, again, err := d.ConsentPDFWrite(ctx, "C-1", []byte("%PDF-1 other bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := store.AppendManyInTx(ctx, md, again, ev()); err != nil || !res[0].Duplicate {
		t.Fatalf("re-sent: %+v, %v; want a duplicate", res, err)
	}
	if n, m := count("setup_consent_documents"), count("events"); n != 1 || m != 1 {
		t.Fatalf("%d PDFs and %d events; want one of each", n, m)
	}
}

type clock struct{}

func (clock) Now() time.Time { return time.Now() }

// PDFs stored in plaintext before sealing are sealed in place, and the
// table is rewritten so that its files keep no plaintext; a shredded
// consent's legacy PDF is deleted.
func TestConsentDocumentsSealLegacy(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	sealer, err := es.NewSealer(make([]byte, 32), postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	d := postgres.ConsentDocuments{Pool: pool, Sealer: sealer}
	if _, err := pool.Exec(ctx, `INSERT INTO setup_consent_documents (consent_id, sha256, pdf) VALUES ('C-1', 'sha256:a', '%PDF legacy ZZLEGACYZZ'), ('C-2', 'sha256:b', '%PDF gone')`); err != nil {
		t.Fatal(err)
	}
	if err := sealer.Shred(ctx, "C-2"); err != nil {
		t.Fatal(err)
	}
	if s, del, err := d.SealLegacy(ctx); s != 1 || del != 1 || err != nil {
		t.Fatalf("sealed %d, deleted %d, %v; want 1 and 1", s, del, err)
	}
	if pdf, found, erased, err := d.ConsentPDF(ctx, "C-1", "sha256:a"); string(pdf) != "%PDF legacy ZZLEGACYZZ" || !found || erased || err != nil {
		t.Fatalf("the sealed legacy PDF: %q %v %v %v", pdf, found, erased, err)
	}
	var path, dir string
	if err := pool.QueryRow(ctx, `SELECT pg_relation_filepath('setup_consent_documents'), current_setting('data_directory')`).Scan(&path, &dir); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil || bytes.Contains(b, []byte("ZZLEGACYZZ")) || len(b) == 0 {
		t.Fatalf("the table's file (%d bytes, %v) still holds the plaintext", len(b), err)
	}
}

// A role or store change and the revocation of the staff's tokens commit
// together; a refused one writes neither.
func TestChangeStaffRevokesInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := postgres.StaffAccounts{Pool: pool}
	for _, a := range []accounts.StaffAccount{
		{StaffID: "ST01", StoreID: "S001", StoreName: "a", Role: accounts.RoleStoreStaff, PasswordHash: "h"},
		{StaffID: "ST02", StoreID: "S002", StoreName: "b", Role: accounts.RoleStoreStaff, PasswordHash: "h"},
	} {
		if ok, err := s.InsertStaff(ctx, a); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	moveTo := func(store string) func(accounts.StaffAccount) (accounts.StaffAccount, bool, error) {
		return func(a accounts.StaffAccount) (accounts.StaffAccount, bool, error) {
			a.StoreID = store
			return a, true, nil
		}
	}
	revocations := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM token_subject_revocations WHERE subject = 'staff:ST01' AND not_before = $1`, at).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, _, err := s.ChangeStaff(ctx, "ST01", -1, at, moveTo("S404")); !errors.Is(err, accounts.ErrUnknownStore) || revocations() != 0 {
		t.Fatalf("unknown store: %v, %d revocations", err, revocations())
	}
	if _, _, err := s.ChangeStaff(ctx, "ST01", 5, at, moveTo("S002")); !errors.Is(err, es.ErrWrongExpectedVersion) || revocations() != 0 {
		t.Fatalf("stale version: %v, %d revocations", err, revocations())
	}
	if _, _, err := s.ChangeStaff(ctx, "NOBODY", -1, at, moveTo("S002")); !errors.Is(err, accounts.ErrUnknownStaff) {
		t.Fatalf("unknown staff: %v", err)
	}
	a, v, err := s.ChangeStaff(ctx, "ST01", 1, at, moveTo("S002"))
	if err != nil || a.StoreID != "S002" || v != 2 || revocations() != 1 {
		t.Fatalf("change: %+v v%d %v, %d revocations", a, v, err, revocations())
	}
	if got, _, _ := s.FindStaff(ctx, "ST01"); got.StoreID != "S002" {
		t.Fatalf("stored store %q", got.StoreID)
	}
}
