package audit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/audit"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

func TestRecordRead(t *testing.T) {
	now := time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)
	ok := audit.Read{ReadID: "r1", ReaderID: "aud-1", ReaderRole: "auditor", Query: audit.QueryStreamEvents, Target: "consent-C1", Reason: " annual audit "}
	for _, tc := range []struct {
		name string
		edit func(*audit.Read)
		want error
	}{
		{"records_trimmed_reason", func(*audit.Read) {}, nil},
		{"blank_reason", func(r *audit.Read) { r.Reason = "  " }, audit.ErrMissingReason},
		{"long_reason", func(r *audit.Read) { r.Reason = strings.Repeat("理", 501) }, audit.ErrLongReason},
		{"no_reader", func(r *audit.Read) { r.ReaderID = "" }, audit.ErrMissingReader},
		{"no_query", func(r *audit.Read) { r.Query = "" }, audit.ErrMissingQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			evs, err := audit.RecordRead(r, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (len(evs) == 1) {
				t.Fatalf("got %v, %v; want error %v", evs, err, tc.want)
			}
			if tc.want == nil {
				e := evs[0].(audit.ReadRecorded)
				if e.Reason != "annual audit" || !e.At.Equal(now) || e.Target != "consent-C1" {
					t.Errorf("event %+v", e)
				}
			}
		})
	}
}

func TestEventsJSONRoundTrip(t *testing.T) {
	domaintest.RoundTrip(t, []domain.Event{audit.ReadRecorded{ReadID: "r-1", ReaderID: "au-1", ReaderRole: "auditor", Query: audit.QueryStreamEvents,
		Target: "card-1", Params: map[string]string{"as_of": "2026-11-30"}, Reason: "annual audit", At: time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Tokyo)}}, audit.EventTypes())
}
