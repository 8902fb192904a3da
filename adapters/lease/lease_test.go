package lease_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/lease"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// A fake lease contract system: GET /leases/{number}.
func leaseSystem(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leases/L-2026-001", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"contract":"L-2026-001","customer_name":"株式会社 山田運輸","start":"2026-01-01","end":"2028-03-31","vehicles":["品川 300 あ 12-34","品川300あ56-78"]}`))
	})
	mux.HandleFunc("GET /leases/L-BROKEN", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("GET /leases/L-GARBLED", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"contract":`)) })
	mux.HandleFunc("GET /leases/L-SLOW", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /leases/L-BADDATE", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"contract":"L-BADDATE","customer_name":"X","start":"2026-13-01","end":"2028-03-31","vehicles":[]}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func number(t *testing.T, s string) contract.Number {
	n, err := contract.ParseNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHTTPClientLookup(t *testing.T) {
	srv := leaseSystem(t)
	c := lease.NewHTTPClient(srv.URL+"/", 200*time.Millisecond)
	ctx := context.Background()

	l, err := c.Lookup(ctx, number(t, "L-2026-001"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := contract.ParseVehicleNumber("品川 300 あ 56-78")
	if l.CustomerName() != "株式会社 山田運輸" || l.End() != (domain.Date{Year: 2028, Month: 3, Day: 31}) || len(l.Vehicles()) != 2 || !l.Covers(v) {
		t.Fatalf("lease = %+v", l)
	}

	var de *domain.Error
	if _, err := c.Lookup(ctx, number(t, "L-NONE")); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Fatalf("unknown lease: %v", err)
	}
	if _, err := c.Lookup(ctx, number(t, "L-BADDATE")); !errors.As(err, &de) || de.Field != "start" {
		t.Fatalf("bad date: %v", err)
	}
	for _, down := range []string{"L-BROKEN", "L-GARBLED", "L-SLOW"} {
		start := time.Now()
		_, err := c.Lookup(ctx, number(t, down))
		if !errors.Is(err, lease.ErrLeaseSystemDown) || !errors.As(err, &de) || de.Kind != domain.KindUnavailable {
			t.Fatalf("%s: %v, want the lease system unavailable", down, err)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("%s: took %v with a 200ms timeout", down, time.Since(start))
		}
	}
	srv.Close()
	if _, err := c.Lookup(ctx, number(t, "L-2026-001")); !errors.Is(err, lease.ErrLeaseSystemDown) {
		t.Fatalf("lease system gone: %v", err)
	}
}

// A registry with Leases answers a lease read before from memory while its
// row is unchanged, and sees a re-import (a vehicle added, the end moved)
// at once; a removed lease is not found.
func TestRegistryKeepsLeaseUntilReimported(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	r := lease.Registry{Pool: pool, Leases: &lease.Leases{}}
	imp := func(csv string) {
		t.Helper()
		if _, err := r.Import(ctx, strings.NewReader(lease.CSVHeader+"\n"+csv+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	a := domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 12-34"))
	b := domaintest.Must(contract.ParseVehicleNumber("品川 300 あ 56-78"))
	n := number(t, "L-2026-001")
	look := func() contract.Lease {
		t.Helper()
		l, err := r.Lookup(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	imp("L-2026-001,株式会社 山田運輸,2026-01-01,2028-03-31,品川 300 あ 12-34")
	for range 2 {
		if l := look(); !l.Covers(a) || l.Covers(b) || l.End().String() != "2028-03-31" || l.CustomerName() != "株式会社 山田運輸" {
			t.Fatalf("lease %+v", l)
		}
	}
	imp("L-2026-001,株式会社 山田運輸,2026-01-01,2029-03-31,品川 300 あ 12-34;品川 300 あ 56-78")
	if l := look(); !l.Covers(a) || !l.Covers(b) || l.End().String() != "2029-03-31" {
		t.Fatalf("after re-import: %+v", l)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM lease_registry`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lookup(ctx, n); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Fatalf("removed lease: %v", err)
	}
}
