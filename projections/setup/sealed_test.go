package setup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
	"github.com/gantry-etc/gantry/test/pgtest"
)

func sealer(t *testing.T, pool *pgxpool.Pool) *es.Sealer {
	t.Helper()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	s, err := es.NewSealer(kek, postgres.NewKeyTable(pool))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func consentRecorded(id, store, name string, day time.Time) application.ConsentRecorded {
	return application.ConsentRecorded{ConsentID: id, StoreID: store, StaffID: "ST01", RequestDate: domain.DateOf(day),
		Parties: domain.Seal(id, application.ConsentParties{Applicant: application.Applicant{Name: name, Phone: "090-0000-1111"},
			Agent: &application.Agent{Name: "代理人" + name}}),
		Units: 1, RecordedAt: day}
}

// The consents view keeps the parties only sealed under the consent's key:
// no plaintext in the table, the name readable through the Reader while
// the key lives, erased (and never matching the applicant filter) from the
// moment the key is shredded, in this process or any other.
func TestConsentsViewSealsParties(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := sealer(t, pool)
	project(t, pool, proj.Consents{Seal: s},
		consentRecorded("CN-1", "S001", "山田ZZQ太郎", at("2026-04-01T10:00")),
		consentRecorded("CN-2", "S001", "佐藤花子", at("2026-04-02T10:00")))

	var raw []byte
	if err := pool.QueryRow(ctx, `SELECT t::text::bytea FROM proj_setup_consents.consents t WHERE consent_id='CN-1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"山田ZZQ太郎", "090-0000-1111", "代理人"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Fatalf("the consents row holds %q in plaintext: %s", plain, raw)
		}
	}

	r := proj.Reader{Pool: pool, Keys: s}
	page, err := r.Consents(ctx, proj.ConsentFilter{Applicant: "zzq"}, projections.FirstPage)
	if err != nil || len(page.Items) != 1 || page.Items[0].ApplicantName == nil || *page.Items[0].ApplicantName != "山田ZZQ太郎" {
		t.Fatalf("search by a part of the name (any case): %+v, %v", page.Items, err)
	}
	// Shredded by another Sealer (another process): the reader must not
	// answer from a cache.
	if err := sealer(t, pool).Shred(ctx, "CN-1"); err != nil {
		t.Fatal(err)
	}
	page, err = r.Consents(ctx, proj.ConsentFilter{}, projections.FirstPage)
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("after shredding: %+v, %v", page.Items, err)
	}
	for _, c := range page.Items {
		if c.ConsentID == "CN-1" && c.ApplicantName != nil || c.ConsentID == "CN-2" && (c.ApplicantName == nil || *c.ApplicantName != "佐藤花子") {
			t.Fatalf("after shredding CN-1: %s has name %v", c.ConsentID, c.ApplicantName)
		}
	}
	if page, err := r.Consents(ctx, proj.ConsentFilter{Applicant: "ZZQ"}, projections.FirstPage); err != nil || len(page.Items) != 0 {
		t.Fatalf("an erased name still matches: %+v, %v", page.Items, err)
	}
}

// Every list is read in pages of at most MaxPageSize: paging through more
// rows than that returns each row exactly once, in order, and the last
// page has no next cursor.
func TestListsPageThroughMoreThanTheMaximum(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := sealer(t, pool)
	const n = projections.MaxPageSize*2 + 7
	var setups, consents []domain.Event
	t0 := at("2026-04-01T10:00")
	for i := range n {
		// Pairs share a timestamp: the ID breaks the tie.
		ts := t0.Add(time.Duration(i/2) * time.Minute)
		setups = append(setups, setup.Started{SetupID: fmt.Sprintf("SU-%04d", i), ApplicationID: "AP-1", StoreID: "S001", At: ts})
		consents = append(consents, consentRecorded(fmt.Sprintf("CN-%04d", i), "S001", "名前", t0.AddDate(0, 0, i/3)))
	}
	project(t, pool, proj.Setups{}, setups...)
	project(t, pool, proj.Consents{Seal: s}, consents...)
	r := proj.Reader{Pool: pool, Keys: s}

	type lister func(projections.PageRequest) ([]string, string, error)
	for name, list := range map[string]lister{
		"setups": func(p projections.PageRequest) ([]string, string, error) {
			page, err := r.Setups(ctx, "", "", p)
			var ids []string
			for _, s := range page.Items {
				ids = append(ids, s.SetupID)
			}
			return ids, page.Next, err
		},
		"consents": func(p projections.PageRequest) ([]string, string, error) {
			page, err := r.Consents(ctx, proj.ConsentFilter{Applicant: "名前"}, p)
			var ids []string
			for _, c := range page.Items {
				ids = append(ids, c.ConsentID)
			}
			return ids, page.Next, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			var sizes []int
			var prev string
			cursor := ""
			for {
				p, err := projections.ParsePage(cursor, projections.MaxPageSize)
				if err != nil {
					t.Fatal(err)
				}
				ids, next, err := list(p)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(ids))
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("%s listed twice", id)
					}
					if prev != "" && id > prev {
						t.Fatalf("%s after %s: not newest first", id, prev)
					}
					seen[id], prev = true, id
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seen) != n || fmt.Sprint(sizes) != fmt.Sprint([]int{500, 500, 7}) {
				t.Fatalf("%d rows in pages %v; want %d in 500, 500, 7", len(seen), sizes, n)
			}
		})
	}
	if _, err := projections.ParsePage("not-a-cursor", 10); err == nil {
		t.Fatal("a foreign cursor was accepted")
	}
}
