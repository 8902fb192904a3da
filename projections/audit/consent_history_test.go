package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/projections"
	audit "github.com/gantry-etc/gantry/projections/audit"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// recorded is an event as the runner delivers it: payload and recorded time.
type recorded struct {
	at time.Time
	e  domain.Event
}

func day(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestConsentHistoryAsOf(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	tokyo := func(s string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02T15:04", s, domain.Tokyo)
		return t
	}
	app := func(s string) application.ID { id, _ := application.ParseID(s); return id }
	in := []recorded{
		{tokyo("2026-04-01T10:00"), application.ConsentRecorded{ConsentID: "C1", StoreID: "S1", RequestDate: day("2026-04-01"), Units: 2,
			ValidFrom: day("2026-04-01"), ValidTo: day("2026-06-30"), RecordedAt: tokyo("2026-04-01T10:00")}},
		{tokyo("2026-04-01T10:00"), application.ConsentRecorded{ConsentID: "C2", StoreID: "S2", RequestDate: day("2026-04-01"), Units: 1, RecordedAt: tokyo("2026-04-01T10:00")}},
		// Recorded and used at the same instant: the state in between is empty.
		{tokyo("2026-04-05T09:00"), application.ConsentRecorded{ConsentID: "C3", StoreID: "S1", RequestDate: day("2026-04-05"), Units: 1, RecordedAt: tokyo("2026-04-05T09:00")}},
		{tokyo("2026-04-05T09:00"), application.ConsentUnitUsed{ConsentID: "C3", ApplicationID: app("AP-3"), Unit: 1, At: tokyo("2026-04-05T09:00")}},
		{tokyo("2026-04-10T23:59"), application.ConsentUnitUsed{ConsentID: "C1", ApplicationID: app("AP-1"), Unit: 1, At: tokyo("2026-04-10T23:59")}},
		{tokyo("2026-04-11T00:00"), application.ConsentUnitUsed{ConsentID: "C1", ApplicationID: app("AP-2"), Unit: 2, At: tokyo("2026-04-11T00:00")}},
		{tokyo("2031-04-06T08:00"), application.ConsentRetentionEnded{ConsentID: "C3", EndedAt: tokyo("2031-04-06T08:00")}},
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		p := audit.ConsentHistory{}
		schema := projections.Schema(p.Name())
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+schema+`; SET LOCAL search_path TO `+schema); err != nil {
			return err
		}
		if err := p.Setup(ctx, tx); err != nil {
			return err
		}
		evs := make([]es.Event, len(in))
		for i, r := range in {
			evs[i] = es.Event{RecordedEvent: es.RecordedEvent{Type: r.e.EventType(), RecordedAt: r.at}, Payload: r.e}
		}
		return p.Apply(ctx, tx, evs)
	})
	if err != nil {
		t.Fatal(err)
	}
	r := audit.Reader{Pool: pool}
	for _, tc := range []struct {
		store, date string
		want        map[string]int // consent → units used
		ended       string
	}{
		{"S1", "2026-03-31", map[string]int{}, ""},
		{"S1", "2026-04-01", map[string]int{"C1": 0}, ""},
		{"S1", "2026-04-05", map[string]int{"C1": 0, "C3": 1}, ""},
		{"S1", "2026-04-10", map[string]int{"C1": 1, "C3": 1}, ""}, // 23:59 is still the 10th
		{"S1", "2026-04-11", map[string]int{"C1": 2, "C3": 1}, ""},
		{"S2", "2026-04-11", map[string]int{"C2": 0}, ""},
		{"S1", "2031-04-06", map[string]int{"C1": 2, "C3": 1}, "C3"},
		{"S1", "2031-04-07", map[string]int{"C1": 2}, ""},
	} {
		got, err := r.ConsentsAsOf(ctx, tc.store, day(tc.date), projections.FirstPage)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]int{}
		for _, c := range got.Items {
			used[c.ConsentID] = c.UnitsUsed
			if len(c.Filings) != c.UnitsUsed {
				t.Errorf("%s on %s: %+v, filings do not match the units used", c.ConsentID, tc.date, c)
			}
			if (c.ConsentID == tc.ended) != (c.Status == "retention_ended") {
				t.Errorf("%s on %s: status %s", c.ConsentID, tc.date, c.Status)
			}
		}
		if len(used) != len(tc.want) {
			t.Errorf("%s on %s: %v, want %v", tc.store, tc.date, used, tc.want)
			continue
		}
		for id, n := range tc.want {
			if u, ok := used[id]; !ok || u != n {
				t.Errorf("%s on %s: %v, want %v", tc.store, tc.date, used, tc.want)
			}
		}
	}
	// Retention runs five years from the last use.
	page, _ := r.ConsentsAsOf(ctx, "S1", day("2026-04-11"), projections.FirstPage)
	got := page.Items
	if !got[0].RetentionEnd.Equal(tokyo("2031-04-11T00:00")) || got[0].PeriodFrom == nil || *got[0].PeriodTo != "2026-06-30" {
		t.Errorf("C1 %+v: want retention end 2031-04-11 and its period", got[0])
	}
	all, err := r.ConsentChanges(ctx, "S1", day("2026-04-05"), day("2026-04-10"), projections.FirstPage)
	if err != nil {
		t.Fatal(err)
	}
	changes := all.Items
	if len(changes) != 3 || changes[0].Change != audit.ChangeRecorded || changes[1].Change != audit.ChangeUnitUsed || *changes[2].ApplicationID != "AP-1" {
		t.Errorf("changes 04-05..04-10: %+v", changes)
	}

	// Walked one row a page, each list is the whole list once, in order.
	whole, err := r.ConsentChanges(ctx, "S1", day("2026-04-01"), day("2031-12-31"), projections.FirstPage)
	if err != nil || len(whole.Items) != 6 || whole.Next != "" {
		t.Fatalf("all S1 changes: %d, next %q, %v; want 6 on one page", len(whole.Items), whole.Next, err)
	}
	var walked []audit.ConsentChange
	for cur := ""; ; {
		p, err := projections.ParsePage(cur, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ConsentChanges(ctx, "S1", day("2026-04-01"), day("2031-12-31"), p)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, got.Items...)
		if cur = got.Next; cur == "" || len(walked) > 6 {
			break
		}
	}
	if len(walked) != len(whole.Items) {
		t.Fatalf("walked %d changes, want %d", len(walked), len(whole.Items))
	}
	for i := range walked {
		if walked[i].State.ConsentID != whole.Items[i].State.ConsentID || walked[i].State.StateNumber != whole.Items[i].State.StateNumber {
			t.Errorf("change %d walked %s#%d, want %s#%d", i, walked[i].State.ConsentID, walked[i].State.StateNumber, whole.Items[i].State.ConsentID, whole.Items[i].State.StateNumber)
		}
	}
	var held []string
	for cur := ""; ; {
		p, _ := projections.ParsePage(cur, 1)
		got, err := r.ConsentsAsOf(ctx, "S1", day("2026-04-11"), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Items {
			held = append(held, c.ConsentID)
		}
		if cur = got.Next; cur == "" || len(held) > 2 {
			break
		}
	}
	if strings.Join(held, ",") != "C1,C3" {
		t.Errorf("S1 consents on 2026-04-11 walked a row a page: %v, want C1,C3", held)
	}
	if _, err := r.ConsentChanges(ctx, "S1", day("2026-04-01"), day("2026-04-30"), projections.PageRequest{Size: 1, After: []string{"not a time", "C1", "0"}}); !errors.Is(err, projections.ErrBadCursor) {
		t.Errorf("a cursor with a bad time: %v, want ErrBadCursor", err)
	}
}
