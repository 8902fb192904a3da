package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/cmd/gantry/app"
	"github.com/gantry-etc/gantry/domain"
)

// auditGet reads an audit route with a reason and decodes the answer.
func (e *env) auditGet(token, path string, params url.Values, out any) {
	e.t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("reason", "annual audit 2026")
	r := e.must(200, e.do("GET", path+"?"+params.Encode(), token, "", nil))
	if err := json.Unmarshal(r.body, out); err != nil {
		e.t.Fatalf("%s: %v: %s", path, err, r.body)
	}
}

type consentAsOf struct {
	Consents []struct {
		ConsentID    string    `json:"consent_id"`
		Stream       string    `json:"stream"`
		Status       string    `json:"status"`
		Units        int       `json:"units"`
		UnitsUsed    int       `json:"units_used"`
		PeriodFrom   *string   `json:"period_from"`
		PeriodTo     *string   `json:"period_to"`
		Filings      []string  `json:"filings"`
		RetentionEnd time.Time `json:"retention_end"`
	} `json:"consents"`
}

func TestAudit_consent_history_as_of_a_date(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	aud := e.staff("aud-1", "", "auditor")

	// 04-01: the consent is recorded and used once; 04-20: used again.
	e.must(201, e.do("POST", "/v1/consents", staff, "", consent("C-AUD-1", "2026-04-01", 3, "2026-04-01", "2026-06-30", proxyApplicant)))
	first := e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("C-AUD-1"))).json(t)["application_id"].(string)
	e.clock.Set(time.Date(2026, 4, 20, 15, 0, 0, 0, domain.Tokyo))
	staff, aud = e.login("st-1"), e.login("aud-1") // tokens last 12 hours
	second := e.must(201, e.do("POST", "/v1/proxy-applications", staff, "", proxyFiling("C-AUD-1"))).json(t)["application_id"].(string)

	asOf := func(date string) consentAsOf {
		var out consentAsOf
		e.auditGet(aud, "/v1/audit/consents", url.Values{"store": {"store-A"}, "date": {date}}, &out)
		return out
	}
	if got := asOf("2026-03-31"); len(got.Consents) != 0 {
		t.Errorf("as of 03-31 (before it was recorded): %+v, want none", got)
	}
	for _, tc := range []struct {
		date    string
		used    int
		filings []string
	}{
		{"2026-04-01", 1, []string{first}},
		{"2026-04-10", 1, []string{first}},
		{"2026-04-19", 1, []string{first}},
		{"2026-04-20", 2, []string{first, second}},
		{"2026-04-21", 2, []string{first, second}},
	} {
		got := asOf(tc.date)
		if len(got.Consents) != 1 {
			t.Fatalf("as of %s: %+v, want the one consent", tc.date, got)
		}
		c := got.Consents[0]
		if c.ConsentID != "C-AUD-1" || c.Stream != "consent-C-AUD-1" || c.Units != 3 || c.UnitsUsed != tc.used || strings.Join(c.Filings, ",") != strings.Join(tc.filings, ",") ||
			c.Status != "active" || c.PeriodFrom == nil || *c.PeriodFrom != "2026-04-01" || c.PeriodTo == nil || *c.PeriodTo != "2026-06-30" {
			t.Errorf("as of %s: %+v, want 3 units, %d used by %v, period 04-01..06-30", tc.date, c, tc.used, tc.filings)
		}
		wantEnd := time.Date(2031, 4, 1, 10, 0, 0, 0, domain.Tokyo)
		if tc.used == 2 {
			wantEnd = time.Date(2031, 4, 20, 15, 0, 0, 0, domain.Tokyo)
		}
		if !c.RetentionEnd.Equal(wantEnd) {
			t.Errorf("as of %s: retention end %s, want %s (5 years from the last use)", tc.date, c.RetentionEnd, wantEnd)
		}
	}
	if got := asOf("2026-04-10"); len(got.Consents) != 1 {
		t.Fatal(got)
	}
	var other consentAsOf
	e.auditGet(aud, "/v1/audit/consents", url.Values{"store": {"store-B"}, "date": {"2026-04-21"}}, &other)
	if len(other.Consents) != 0 {
		t.Errorf("store-B holds %+v, want nothing", other)
	}

	// What changed in a period.
	var ch struct {
		Changes []struct {
			Change        string  `json:"change"`
			ApplicationID *string `json:"application_id"`
			State         struct {
				UnitsUsed int `json:"units_used"`
			} `json:"state"`
		} `json:"changes"`
	}
	e.auditGet(aud, "/v1/audit/consents/changes", url.Values{"store": {"store-A"}, "from": {"2026-04-01"}, "to": {"2026-04-30"}}, &ch)
	if len(ch.Changes) != 3 || ch.Changes[0].Change != "recorded" || ch.Changes[1].Change != "unit_used" || *ch.Changes[1].ApplicationID != first ||
		ch.Changes[2].Change != "unit_used" || *ch.Changes[2].ApplicationID != second || ch.Changes[2].State.UnitsUsed != 2 {
		t.Errorf("changes 04-01..04-30: %+v, want recorded, used by %s, used by %s", ch.Changes, first, second)
	}
	e.auditGet(aud, "/v1/audit/consents/changes", url.Values{"store": {"store-A"}, "from": {"2026-04-02"}, "to": {"2026-04-19"}}, &ch)
	if len(ch.Changes) != 0 {
		t.Errorf("changes 04-02..04-19: %+v, want none", ch.Changes)
	}
	e.problem(e.do("GET", "/v1/audit/consents/changes?reason=x&store=store-A&from=2026-04-30&to=2026-04-01", aud, "", nil), 400, "bad_period")

	// Five years after the last use the consent's retention ends: it was
	// held on that day (in its ended state), and no longer the day after;
	// its past states stay as they were.
	e.clock.Set(time.Date(2031, 4, 21, 9, 0, 0, 0, domain.Tokyo))
	e.runJobs("setup-consent-retention")
	aud = e.login("aud-1")
	if got := asOf("2031-04-21"); len(got.Consents) != 1 || got.Consents[0].Status != "retention_ended" || got.Consents[0].UnitsUsed != 2 {
		t.Errorf("as of the day its retention ended: %+v, want the consent, retention_ended", got)
	}
	if got := asOf("2031-04-22"); len(got.Consents) != 0 {
		t.Errorf("as of the day after its retention ended: %+v, want none", got)
	}
	if got := asOf("2026-04-10"); len(got.Consents) != 1 || got.Consents[0].UnitsUsed != 1 || got.Consents[0].Status != "active" {
		t.Errorf("as of 2026-04-10 after the end: %+v, want 1 use, active", got)
	}

	// The store view does not pretend to answer as of a date.
	p := e.problem(e.do("GET", "/v1/views/consents?as_of=2026-04-10", aud, "", nil), 400, "unknown_query_parameter")
	if !strings.Contains(p.Detail, "as_of") {
		t.Errorf("detail %q does not name as_of", p.Detail)
	}
}

type historyPage struct {
	Stream string `json:"stream"`
	Events []struct {
		Version       int64           `json:"version"`
		Position      string          `json:"position"`
		EventID       string          `json:"event_id"`
		Type          string          `json:"type"`
		RecordedAt    time.Time       `json:"recorded_at"`
		CorrelationID string          `json:"correlation_id"`
		CausationID   string          `json:"causation_id"`
		Actor         map[string]any  `json:"actor"`
		Data          json.RawMessage `json:"data"`
	} `json:"events"`
	Next string `json:"next"`
}

func TestAudit_erased_application_keeps_its_history(t *testing.T) {
	e := start(t)
	aud := e.staff("aud-1", "", "auditor")
	ops := e.staff("ops-1", "", "operator_admin")
	applied := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	id := applied["application_id"].(string)
	e.inbox.Wait(t, 1)
	stream := "/v1/audit/streams/application-" + id

	var before historyPage
	e.auditGet(aud, stream+"/events", nil, &before)
	if len(before.Events) == 0 || before.Events[0].Type != "application.completed" || before.Events[0].Version != 1 ||
		before.Events[0].Position == "" || before.Events[0].EventID == "" || before.Events[0].CorrelationID == "" || before.Events[0].Actor["role"] != "anonymous" {
		t.Fatalf("history before expiry: %+v", before)
	}
	if !strings.Contains(string(before.Events[0].Data), "山田太郎") {
		t.Errorf("the auditor does not see the applicant's name: %s", before.Events[0].Data)
	}
	completedAt := before.Events[0].RecordedAt

	e.clock.Advance(60 * 24 * time.Hour)
	e.runJobs("setup-expire-applications")
	aud, ops = e.login("aud-1"), e.login("ops-1")

	var after historyPage
	e.auditGet(ops, stream+"/events", nil, &after)
	if len(after.Events) != len(before.Events)+1 || after.Events[len(after.Events)-1].Type != "application.expired" {
		t.Fatalf("history after expiry: %d events, want %d and the expiry", len(after.Events), len(before.Events)+1)
	}
	for i, b := range before.Events {
		a := after.Events[i]
		if a.EventID != b.EventID || a.Version != b.Version || a.Position != b.Position || a.Type != b.Type || !a.RecordedAt.Equal(b.RecordedAt) {
			t.Errorf("entry %d changed with the erasure: %+v → %+v", i, b, a)
		}
	}
	data := string(after.Events[0].Data)
	if strings.Contains(data, "山田太郎") || strings.Contains(data, "taro.yamada") || !strings.Contains(data, `"erased":true`) {
		t.Errorf("the erased application's data: %s, want its personal fields marked erased", data)
	}

	// State as of an instant: before the expiry, completed at version 1.
	var st struct {
		Kind    string `json:"kind"`
		Version int64  `json:"version"`
		State   struct {
			Status  string          `json:"status"`
			Details json.RawMessage `json:"details"`
		} `json:"state"`
	}
	e.auditGet(aud, stream+"/state", url.Values{"as_of": {completedAt.Add(time.Hour).Format(time.RFC3339)}}, &st)
	if st.Kind != "application" || st.State.Status != "completed" || int(st.Version) != len(before.Events) || !strings.Contains(string(st.State.Details), `"erased":true`) {
		t.Errorf("state an hour after completion: %+v, want completed at version %d with details erased (the key is gone now)", st, len(before.Events))
	}
	e.auditGet(aud, stream+"/state", nil, &st)
	if st.State.Status != "expired" || int(st.Version) != len(after.Events) {
		t.Errorf("state now: %+v, want expired at version %d", st, len(after.Events))
	}
	e.problem(e.do("GET", stream+"/state?reason=x&as_of="+url.QueryEscape(completedAt.Add(-time.Minute).Format(time.RFC3339)), aud, "", nil), 404, "stream_not_yet")
	e.problem(e.do("GET", "/v1/audit/streams/application-nope/events?reason=x", aud, "", nil), 404, "stream_not_found")

	// The CLI answers the same, and refuses without a reason.
	var out bytes.Buffer
	if err := app.AuditCLI(context.Background(), e.a, []string{"audit", "history", "application-" + id}, &out); err == nil {
		t.Error("gantry audit history without --reason succeeded")
	}
	n := e.eventCount()
	if err := app.AuditCLI(context.Background(), e.a, []string{"audit", "history", "application-" + id, "--reason", "cli check"}, &out); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != len(after.Events) || !strings.Contains(lines[0], `"erased":true`) {
		t.Errorf("CLI history: %d lines, want %d: %s", len(lines), len(after.Events), out.String())
	}
	out.Reset()
	if err := app.AuditCLI(context.Background(), e.a, []string{"audit", "history", "application-" + id, "--state", "--as-of", completedAt.Add(time.Hour).Format(time.RFC3339), "--reason", "cli"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"status": "completed"`) {
		t.Errorf("CLI state: %s", out.String())
	}
	if got := e.eventCount(); got != n+2 {
		t.Errorf("two CLI reads recorded %d events, want 2", got-n)
	}
	e.problem(e.do("GET", "/v1/audit/streams/audit-reads-2026-04-01/state?reason=x", aud, "", nil), 422, "no_aggregate")
}

func TestAudit_setup_state_as_of_and_paging(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	aud := e.staff("aud-1", "", "auditor")
	_, _, qr := e.apply()
	sid, v := e.receive(staff, qr)
	received := e.clock.Now()
	e.clock.Advance(time.Hour)
	e.must(200, e.do("POST", "/v1/setups/"+sid+"/visitor", staff, q(v), setupSteps[0].body))
	e.clock.Advance(time.Hour)
	e.must(200, e.do("POST", "/v1/setups/"+sid+"/identity", staff, q(v+1), setupSteps[1].body))

	var st struct {
		Version int64 `json:"version"`
		State   struct {
			SetupID  string `json:"setup_id"`
			NextStep string `json:"next_step"`
		} `json:"state"`
	}
	for _, tc := range []struct {
		at      time.Time
		version int64
		next    string
	}{
		{received.Add(30 * time.Minute), v, "record visitor"},
		{received.Add(90 * time.Minute), v + 1, "identity check"},
		{e.clock.Now(), v + 2, "several-OBUs"},
	} {
		e.auditGet(aud, "/v1/audit/streams/setup-"+sid+"/state", url.Values{"as_of": {tc.at.Format(time.RFC3339)}}, &st)
		if st.Version != tc.version || st.State.SetupID != sid || !strings.HasPrefix(st.State.NextStep, tc.next) {
			t.Errorf("setup as of %s: %+v, want version %d, next %q", tc.at, st, tc.version, tc.next)
		}
	}

	// Paging: one event a page, following the next links.
	var all []int64
	next := "/v1/audit/streams/setup-" + sid + "/events?limit=1&reason=paging"
	for next != "" && len(all) < 10 {
		var p historyPage
		r := e.must(200, e.do("GET", next, aud, "", nil))
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		for _, ev := range p.Events {
			all = append(all, ev.Version)
		}
		next = p.Next
	}
	if len(all) != int(v+2) || all[0] != 1 || all[len(all)-1] != v+2 {
		t.Errorf("paged versions %v, want 1..%d", all, v+2)
	}
	var asOfDay historyPage
	e.auditGet(aud, "/v1/audit/streams/setup-"+sid+"/events", url.Values{"as_of": {received.Add(30 * time.Minute).Format(time.RFC3339)}}, &asOfDay)
	if int64(len(asOfDay.Events)) != v {
		t.Errorf("history as of 30 minutes after reception: %d events, want %d", len(asOfDay.Events), v)
	}
}

func TestAudit_reads_are_recorded_with_a_reason(t *testing.T) {
	e := start(t)
	aud := e.staff("aud-1", "", "auditor")
	ops := e.staff("ops-1", "", "operator_admin")
	_, _, _ = e.apply()
	before := e.eventCount()

	// No reason, an empty one, an unknown or repeated parameter: 400, nothing recorded.
	e.problem(e.do("GET", "/v1/audit/consents?store=store-A&date=2026-04-01", aud, "", nil), 400, "missing_query_parameter")
	e.problem(e.do("GET", "/v1/audit/consents?store=store-A&date=2026-04-01&reason=+", aud, "", nil), 400, "missing_query_parameter")
	e.problem(e.do("GET", "/v1/audit/consents?store=store-A&date=2026-04-01&reason=x&as_of=2026-04-01", aud, "", nil), 400, "unknown_query_parameter")
	e.problem(e.do("GET", "/v1/audit/consents?store=store-A&date=2026-04-01&reason=x&reason=y", aud, "", nil), 400, "repeated_query_parameter")
	e.problem(e.do("GET", "/v1/audit/streams/setup-x/events?reason=x&limit=9999", aud, "", nil), 400, "bad_limit")
	if n := e.eventCount(); n != before {
		t.Fatalf("refused reads wrote %d events", n-before)
	}

	var out any
	e.auditGet(aud, "/v1/audit/consents", url.Values{"store": {"store-A"}, "date": {"2026-04-01"}}, &out)
	e.do("GET", "/v1/audit/streams/application-unknown/events?reason=looking+for+a+lost+file", ops, "", nil) // 404, but recorded
	if n := e.eventCount(); n != before+2 {
		t.Fatalf("two audit reads wrote %d events, want 2", n-before)
	}

	var reads struct {
		Reads []struct {
			ReaderID   string            `json:"reader_id"`
			ReaderRole string            `json:"reader_role"`
			Query      string            `json:"query"`
			Target     string            `json:"target"`
			Params     map[string]string `json:"params"`
			Reason     string            `json:"reason"`
			At         time.Time         `json:"at"`
			Stream     string            `json:"stream"`
		} `json:"reads"`
		Next string `json:"next"`
	}
	e.auditGet(ops, "/v1/audit/reads", nil, &reads)
	if len(reads.Reads) != 3 {
		t.Fatalf("reads: %+v, want 3 (the two reads and this listing)", reads)
	}
	r0, r1, r2 := reads.Reads[0], reads.Reads[1], reads.Reads[2]
	if r0.Query != "audit_reads" || r0.ReaderID != "ops-1" || r0.ReaderRole != "operator_admin" {
		t.Errorf("newest read %+v, want this listing by ops-1", r0)
	}
	if r1.Query != "stream_events" || r1.Target != "application-unknown" || r1.Reason != "looking for a lost file" || r1.ReaderID != "ops-1" {
		t.Errorf("second read %+v", r1)
	}
	if r2.Query != "consents_as_of" || r2.Target != "store-A" || r2.Params["date"] != "2026-04-01" || r2.Reason != "annual audit 2026" ||
		r2.ReaderID != "aud-1" || r2.ReaderRole != "auditor" || !r2.At.Equal(e.clock.Now()) || r2.Stream != "audit-reads-2026-04-01" {
		t.Errorf("first read %+v", r2)
	}
	if _, ok := r2.Params["reason"]; ok {
		t.Errorf("the reason is repeated in the params: %v", r2.Params)
	}
	// Paging and filters.
	e.auditGet(aud, "/v1/audit/reads", url.Values{"limit": {"1"}, "reader": {"aud-1"}}, &reads)
	if len(reads.Reads) != 1 || reads.Reads[0].ReaderID != "aud-1" || reads.Next == "" {
		t.Fatalf("aud-1's reads, one a page: %+v", reads)
	}
	if reads.Reads[0].Query != "audit_reads" {
		t.Errorf("aud-1's newest read: %+v, want this listing", reads.Reads[0])
	}
	r := e.must(200, e.do("GET", reads.Next, aud, "", nil))
	reads.Reads, reads.Next = nil, ""
	if err := json.Unmarshal(r.body, &reads); err != nil {
		t.Fatal(err)
	}
	if len(reads.Reads) != 1 || reads.Reads[0].Query != "consents_as_of" || reads.Reads[0].ReaderID != "aud-1" || reads.Next != "" {
		t.Errorf("second page: %+v", reads)
	}
}
