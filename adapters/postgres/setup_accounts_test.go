package postgres_test

import (
	"context"
	"testing"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands/accounts"
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
	d := postgres.ConsentDocuments{Pool: pool}
	ref, err := d.PutConsentPDF(ctx, "C-1", []byte("%PDF-1"))
	if err != nil || ref != "sha256:21af8e71c8703196df7fe1ff901869a88fe64c07bbaa83d838efb45a52b4f303" {
		t.Fatalf("ref %q, %v", ref, err)
	}
	again, err := d.PutConsentPDF(ctx, "C-1", []byte("%PDF-1"))
	if err != nil || again != ref {
		t.Fatalf("retry: %q, %v; want the same reference", again, err)
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
