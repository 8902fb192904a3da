package billing_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/domaintest"
	"github.com/gantry-etc/gantry/domain/money"
)

// TestInvoiceCommitsToLines: the issued event stores a commitment (count,
// SHA-256 over the canonical lines, usage ranges), not the lines; hydrated
// from a line store it replays to the same invoice; altered lines are
// refused; replayed without lines the invoice keeps its totals but will
// not reconcile.
func TestInvoiceCommitsToLines(t *testing.T) {
	nov := ym("2026-11")
	cards := []billing.CardRecord{cardRec(1, card.ReasonNew, "2025-11-02", "2026-11-02", "", 0)}
	var usage []billing.UsageRecord
	for _, id := range []string{"R1", "R2", "R3"} {
		usage = append(usage, usage1(id))
	}
	st := domaintest.Must(billing.Compute(settings, customer, nov, cards, usage))
	var inv billing.Invoice
	ev := domaintest.Must(inv.Issue(billing.InvoiceNumberFor(contractNo, nov), st, domaintest.Date("2026-11-30")))[0].(billing.InvoiceIssued)

	var canon []string
	for _, l := range st.Lines {
		canon = append(canon, string(billing.CanonicalLine(l))+"\n")
	}
	if ev.Lines.Count != len(st.Lines) || ev.Lines.SHA256 != billing.HashLines(toBytes(canon)) {
		t.Fatalf("commitment %+v over %d lines", ev.Lines, len(st.Lines))
	}
	if len(ev.Lines.Usage) != 1 || ev.Lines.Usage[0] != (billing.UsageRange{Operator: "NEXCO-E", First: "R1", Last: "R3", Count: 3}) {
		t.Fatalf("usage ranges %+v", ev.Lines.Usage)
	}
	if !strings.Contains(canon[len(canon)-1], `+09:00"`) {
		t.Fatalf("times are not in Japan time: %s", canon[len(canon)-1])
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "toll:") || !strings.Contains(string(b), ev.Lines.SHA256) {
		t.Fatalf("stored form embeds lines or lacks the hash: %s", b)
	}
	var back billing.InvoiceIssued
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}

	var bare billing.Invoice
	bare.Apply(back)
	if bare.LinesKnown() || bare.Effective().Summary.Total != st.Summary.Total {
		t.Fatalf("replay without lines: known %v, total %s", bare.LinesKnown(), bare.Effective().Summary.Total)
	}
	if _, err := bare.Reconcile(st, domaintest.Date("2026-12-01")); !errors.Is(err, billing.ErrLinesNotLoaded) {
		t.Fatalf("reconcile without lines: %v", err)
	}

	store := func(ls []billing.Line) billing.ReadLines {
		return func(doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
			if doc != ev.Invoice || part != billing.PartLines {
				t.Errorf("read %s %s", doc, part)
			}
			return ls, nil
		}
	}
	h, err := billing.Hydrate(back, store(st.Lines))
	if err != nil {
		t.Fatal(err)
	}
	var full billing.Invoice
	full.Apply(h)
	if !full.LinesKnown() || len(full.Effective().Lines) != len(st.Lines) {
		t.Fatalf("hydrated replay: known %v, %d lines", full.LinesKnown(), len(full.Effective().Lines))
	}
	if evs, err := full.Reconcile(st, domaintest.Date("2026-12-01")); err != nil || len(evs) != 0 {
		t.Fatalf("reconcile equal: %v %v", evs, err)
	}

	altered := append([]billing.Line(nil), st.Lines...)
	altered[len(altered)-1].Amount++
	for name, ls := range map[string][]billing.Line{"amount changed": altered, "line missing": st.Lines[1:]} {
		if _, err := billing.Hydrate(back, store(ls)); !errors.Is(err, billing.ErrLinesAltered) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(strings.TrimSuffix(s, "\n"))
	}
	return out
}

func usage1(id string) billing.UsageRecord {
	return usage(id, 1, vehicle, "2026-11-04 08:00:00", "2026-11-04 08:40:00", 1250)
}

// TestCanonicalLineIsEncodingJSON: the reflection-free encoder writes
// exactly encoding/json's bytes (the definition), for plain, Japanese,
// escaped and odd values, zero and non-zero optional fields, any zone.
func TestCanonicalLineIsEncodingJSON(t *testing.T) {
	odd := []string{"", "plain", "東京IC", `a"b`, `back\slash`, "<tag>&amp;", "A&B", "x>y", "q<", "tab\there", "nl\n", "\x01ctl", "\x7fdel", "line\u2028sep", "para\u2029", "bad\xffutf8", "emoji 🚗", "ｶﾀｶﾅ"}
	zones := []*time.Location{time.UTC, time.FixedZone("", 9*3600), time.FixedZone("X", -5*3600)}
	n := 0
	for i, s := range odd {
		for j, z := range zones {
			at := time.Date(2026, 11, 1+i, j, 7, 9, i*1000, z)
			l := billing.Line{Key: "toll:" + s, Kind: billing.KindToll, Operator: s, RecordID: s, EntryIC: s, ExitIC: s,
				Amount: money.Yen(i*j - 3), TaxRate: billing.TaxRate(j)}
			if j > 0 {
				l.EntryAt, l.ExitAt, l.UsageDate, l.Reason = at, at.Add(time.Hour+time.Nanosecond), domain.DateOf(at), card.IssueReason(s)
				l.Card = num(int64(i + 1))
				l.Vehicle = vehicle
			}
			if got, want := string(billing.CanonicalLine(l)), string(billing.ReferenceCanonical(l)); got != want {
				t.Errorf("line %d/%d:\n got %s\nwant %s", i, j, got, want)
			}
			n++
		}
	}
	if n != len(odd)*len(zones) {
		t.Fatal("not every case ran")
	}
}
