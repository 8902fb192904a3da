// Package lease reaches the lease contract system (リース契約管理システム):
// an HTTP JSON client for the real system and a local registry table loaded
// from CSV (gantry lease import). Both implement the lookup port of
// commands/cards: Lookup(ctx, number) → contract.Lease, or
// ErrLeaseNotFound.
package lease

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
)

// ErrLeaseNotFound: the lease system has no lease with this number.
var ErrLeaseNotFound = domain.Invalid("lease_not_found",
	"The lease contract system has no lease with this number; check the lease contract number.")

// ErrLeaseSystemDown: the lease system did not answer in time.
var ErrLeaseSystemDown = domain.Unavailable("lease_system_unavailable",
	"The lease contract system cannot be reached right now; nothing was written. Retry later.")

// leaseDoc is the JSON both adapters speak.
type leaseDoc struct {
	Contract     string   `json:"contract"`
	CustomerName string   `json:"customer_name"`
	Start        string   `json:"start"`
	End          string   `json:"end"`
	Vehicles     []string `json:"vehicles"`
}

func (d leaseDoc) lease() (contract.Lease, error) {
	n, err := contract.ParseNumber(d.Contract)
	if err != nil {
		return contract.Lease{}, err
	}
	s, err := domain.ParseDate(d.Start)
	if err != nil {
		return contract.Lease{}, contract.ErrInvalidLease.Withf("start", "%q is not a date (YYYY-MM-DD).", d.Start)
	}
	e, err := domain.ParseDate(d.End)
	if err != nil {
		return contract.Lease{}, contract.ErrInvalidLease.Withf("end", "%q is not a date (YYYY-MM-DD).", d.End)
	}
	var vs []contract.VehicleNumber
	for _, v := range d.Vehicles {
		x, err := contract.ParseVehicleNumber(v)
		if err != nil {
			return contract.Lease{}, err
		}
		vs = append(vs, x)
	}
	return contract.NewLease(n, d.CustomerName, s, e, vs)
}

// HTTPClient asks the lease system at BaseURL: GET {base}/leases/{number}
// answers 200 with the lease JSON or 404. Each call is bounded by Timeout.
type HTTPClient struct {
	BaseURL string
	Timeout time.Duration
	Client  *http.Client
}

// NewHTTPClient returns a client with the given base URL and per-call timeout.
func NewHTTPClient(base string, timeout time.Duration) *HTTPClient {
	return &HTTPClient{BaseURL: strings.TrimRight(base, "/"), Timeout: timeout, Client: &http.Client{Timeout: timeout}}
}

// Lookup fetches the lease.
func (c *HTTPClient) Lookup(ctx context.Context, n contract.Number) (contract.Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/leases/"+url.PathEscape(n.String()), nil)
	if err != nil {
		return contract.Lease{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Client.Do(req)
	if err != nil {
		return contract.Lease{}, fmt.Errorf("%w: %v", ErrLeaseSystemDown, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return contract.Lease{}, ErrLeaseNotFound.Withf("contract", "Lease %s is not in the lease contract system.", n)
	case resp.StatusCode != http.StatusOK:
		return contract.Lease{}, fmt.Errorf("%w: HTTP %d", ErrLeaseSystemDown, resp.StatusCode)
	}
	var d leaseDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d); err != nil {
		return contract.Lease{}, fmt.Errorf("%w: bad JSON: %v", ErrLeaseSystemDown, err)
	}
	return d.lease()
}

// Registry is the local lease table (lease_registry). With Leases, a lease
// read before is answered from memory while its row is the same row
// version (xmin): the vehicles array (hundreds of registrations on a large
// lease) is neither sent again nor parsed for every card issued.
type Registry struct {
	Pool   *pgxpool.Pool
	Leases *Leases
}

// Leases keeps the leases a Registry read, each with its row version.
// Safe for concurrent use; the zero value is ready.
type Leases struct {
	mu sync.Mutex
	m  map[contract.Number]keptLease
}

type keptLease struct {
	xmin  string
	lease contract.Lease
}

func (c *Leases) get(n contract.Number) (keptLease, bool) {
	if c == nil {
		return keptLease{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[n]
	return k, ok
}

func (c *Leases) put(n contract.Number, k keptLease) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[contract.Number]keptLease{}
	}
	c.m[n] = k
}

// Lookup reads the lease from the table.
func (r Registry) Lookup(ctx context.Context, n contract.Number) (contract.Lease, error) {
	kept, ok := r.Leases.get(n)
	var d leaseDoc
	var s, e time.Time
	var xmin string
	var same bool
	// The vehicles are sent only when the row is not the version kept.
	err := r.Pool.QueryRow(ctx, `SELECT xmin::text, xmin::text = $2, contract, customer_name, start_date, end_date,
			CASE WHEN xmin::text = $2 THEN NULL ELSE vehicles END
		FROM lease_registry WHERE contract = $1`, n.String(), kept.xmin).
		Scan(&xmin, &same, &d.Contract, &d.CustomerName, &s, &e, &d.Vehicles)
	if errors.Is(err, pgx.ErrNoRows) {
		return contract.Lease{}, ErrLeaseNotFound.Withf("contract", "Lease %s is not in the lease registry; import it with gantry lease import.", n)
	}
	if err != nil {
		return contract.Lease{}, err
	}
	if ok && same {
		return kept.lease, nil
	}
	d.Start, d.End = s.Format(time.DateOnly), e.Format(time.DateOnly)
	l, err := d.lease()
	if err == nil {
		r.Leases.put(n, keptLease{xmin, l})
	}
	return l, err
}

// CSVHeader is the header line of a lease import file. Vehicles are
// separated by semicolons.
const CSVHeader = "contract,customer_name,start,end,vehicles"

// Import validates every row of a lease CSV (header CSVHeader, UTF-8) and
// upserts all of them in one transaction; a file with any bad row imports
// nothing and returns a *LineErrors. It returns the number of leases.
func (r Registry) Import(ctx context.Context, in io.Reader) (int, error) {
	rd := csv.NewReader(in)
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		return 0, &LineErrors{Problems: []LineError{{Line: 0, Field: "file", Reason: err.Error()}}}
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != CSVHeader {
		return 0, &LineErrors{Problems: []LineError{{Line: 1, Field: "header", Reason: "the first line must be " + CSVHeader}}}
	}
	var docs []leaseDoc
	var bad LineErrors
	for i, row := range rows[1:] {
		line := i + 2
		if len(row) != 5 {
			bad.Problems = append(bad.Problems, LineError{line, "row", fmt.Sprintf("%d fields, want 5", len(row))})
			continue
		}
		d := leaseDoc{Contract: row[0], CustomerName: row[1], Start: row[2], End: row[3]}
		for _, v := range strings.Split(row[4], ";") {
			if strings.TrimSpace(v) != "" {
				d.Vehicles = append(d.Vehicles, v)
			}
		}
		l, err := d.lease()
		if err != nil {
			var de *domain.Error
			f := "row"
			if errors.As(err, &de) {
				f = de.Field
			}
			bad.Problems = append(bad.Problems, LineError{line, f, err.Error()})
			continue
		}
		vs := []string{}
		for _, v := range l.Vehicles() {
			vs = append(vs, v.String())
		}
		docs = append(docs, leaseDoc{l.Number().String(), l.CustomerName(), l.Start().String(), l.End().String(), vs})
	}
	if len(bad.Problems) > 0 {
		return 0, &bad
	}
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	for _, d := range docs {
		if _, err := tx.Exec(ctx, `INSERT INTO lease_registry (contract, customer_name, start_date, end_date, vehicles)
			VALUES ($1,$2,$3,$4,$5) ON CONFLICT (contract) DO UPDATE SET customer_name = EXCLUDED.customer_name,
			start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, vehicles = EXCLUDED.vehicles, imported_at = now()`,
			d.Contract, d.CustomerName, d.Start, d.End, d.Vehicles); err != nil {
			return 0, err
		}
	}
	return len(docs), tx.Commit(ctx)
}

// LineError is one problem of an import file.
type LineError struct {
	Line   int
	Field  string
	Reason string
}

// LineErrors rejects a whole file with a report per line.
type LineErrors struct{ Problems []LineError }

func (e *LineErrors) Error() string {
	var b strings.Builder
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "line %d %s: %s\n", p.Line, p.Field, p.Reason)
	}
	return strings.TrimSpace(b.String())
}
