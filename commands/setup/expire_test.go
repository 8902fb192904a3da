package setup_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

// fakeAwaiting is the expiry job's view: it answers fixed candidates, as a
// view built under another rule (or lagging) may, and records the cut-off.
type fakeAwaiting struct {
	ids    []string
	err    error
	askedT time.Time
}

func (f *fakeAwaiting) AwaitingCompletedBy(_ context.Context, t time.Time) ([]string, error) {
	f.askedT = t
	return f.ids, f.err
}

func TestExpireDue(t *testing.T) {
	now := domaintest.At("2026-06-10T12:00")
	due := completedAt("AP-DUE1", now.Add(-application.ReceptionPeriod))                 // exactly 60 days: due
	notDue := completedAt("AP-NOTDUE1", now.Add(-application.ReceptionPeriod+time.Hour)) // the view says due, the domain does not
	received := completedAt("AP-RCVD1", now.Add(-90*24*time.Hour))
	due2 := completedAt("AP-DUE2", now.Add(-61*24*time.Hour))
	st := newStreams().
		given(cmds.ApplicationStream("AP-DUE1"), due).
		given(cmds.ApplicationStream("AP-NOTDUE1"), notDue).
		given(cmds.ApplicationStream("AP-RCVD1"), received, application.Received{ApplicationID: received.ApplicationID, StoreID: "S001", StaffID: "ST01", ReceivedAt: now.Add(-80 * 24 * time.Hour)}).
		given(cmds.ApplicationStream("AP-DOWN1"), completedAt("AP-DOWN1", now.Add(-70*24*time.Hour))).
		given(cmds.ApplicationStream("AP-DUE2"), due2)
	st.failLoad[cmds.ApplicationStream("AP-DOWN1")] = errStoreDown
	shred := &fakeShredder{}
	view := &fakeAwaiting{ids: []string{"AP-DUE1", "AP-NOTDUE1", "AP-RCVD1", "AP-DOWN1", "AP-DUE2"}}

	res, err := cmds.ExpireDue(view, cmds.ExpireHandler{Streams: st, Clock: commandsClock(now), Shredder: shred}).Handle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !view.askedT.Equal(now.Add(-application.ReceptionPeriod)) {
		t.Fatalf("candidates asked for completions by %v, want now − 60 days", view.askedT)
	}
	// Both due applications expire although candidates between them were refused or failed.
	for _, c := range []application.Completed{due, due2} {
		domaintest.Then(t, st.appended[cmds.ApplicationStream(c.ApplicationID.String())], nil,
			[]domain.Event{application.Expired{ApplicationID: c.ApplicationID, CompletedAt: c.CompletedAt, ExpiredAt: now}}, nil)
	}
	if !slices.Equal(res.Done, []string{"AP-DUE1", "AP-DUE2"}) || !slices.Equal(shred.shredded, []string{"AP-DUE1", "AP-DUE2"}) {
		t.Fatalf("done %v, shredded %v; want AP-DUE1 and AP-DUE2", res.Done, shred.shredded)
	}
	if len(res.Refused) != 2 || res.Refused[0].ID != "AP-NOTDUE1" || !errors.Is(res.Refused[0].Err, application.ErrExpiryNotDue) ||
		res.Refused[1].ID != "AP-RCVD1" || !errors.Is(res.Refused[1].Err, application.ErrNotExpirable) {
		t.Fatalf("refused %+v; want AP-NOTDUE1 (not due) and AP-RCVD1 (received)", res.Refused)
	}
	if len(res.Failed) != 1 || res.Failed[0].ID != "AP-DOWN1" || !errors.Is(res.Err(), errStoreDown) {
		t.Fatalf("failed %+v, Err %v; want AP-DOWN1 with the store's error", res.Failed, res.Err())
	}
	for _, id := range []string{"AP-NOTDUE1", "AP-RCVD1", "AP-DOWN1"} {
		if got := st.appended[cmds.ApplicationStream(id)]; len(got) != 0 {
			t.Fatalf("%s got %v; want nothing appended", id, got)
		}
	}

	// A second run finds the same candidates: the expired ones add nothing.
	again, err := cmds.ExpireDue(view, cmds.ExpireHandler{Streams: st, Clock: commandsClock(now), Shredder: shred}).Handle(context.Background())
	if err != nil || len(st.appended[cmds.ApplicationStream("AP-DUE1")]) != 1 || !slices.Contains(again.Done, "AP-DUE1") {
		t.Fatalf("second run: %v, %+v, appended %v", err, again, st.appended[cmds.ApplicationStream("AP-DUE1")])
	}
}

func TestExpireDueWithoutCandidatesListIsAnError(t *testing.T) {
	_, err := cmds.ExpireDue(&fakeAwaiting{err: errStoreDown}, cmds.ExpireHandler{Streams: newStreams(), Clock: commandsClock(time.Now())}).Handle(context.Background())
	if !errors.Is(err, errStoreDown) {
		t.Fatalf("err = %v, want the view's error", err)
	}
}

// fakeReceived is the retention job's view.
type fakeReceived struct {
	ids    []string
	askedT time.Time
}

func (f *fakeReceived) ReceivedCompletedBy(_ context.Context, t time.Time) ([]string, error) {
	f.askedT = t
	return f.ids, nil
}

func TestEndRetentionDue(t *testing.T) {
	now := domaintest.At("2031-04-01T10:00")
	due := completedAt("AP-OLD1", domaintest.At("2026-04-01T10:00"))
	awaiting := completedAt("AP-AWAIT1", domaintest.At("2026-03-01T10:00"))
	st := newStreams().
		given(cmds.ApplicationStream("AP-AWAIT1"), awaiting).
		given(cmds.ApplicationStream("AP-OLD1"), due, application.Received{ApplicationID: due.ApplicationID, StoreID: "S001", StaffID: "ST01", ReceivedAt: domaintest.At("2026-04-02T10:00")})
	shred := &fakeShredder{}
	view := &fakeReceived{ids: []string{"AP-AWAIT1", "AP-OLD1"}} // a stale view: AP-AWAIT1 was never received

	res, err := cmds.EndRetentionDue(view, cmds.EndRetentionHandler{Streams: st, Clock: commandsClock(now), Shredder: shred}).Handle(context.Background())
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if !view.askedT.Equal(application.RetentionDueIfCompletedBy(now)) {
		t.Fatalf("candidates asked for completions by %v, want 5 years before now", view.askedT)
	}
	domaintest.Then(t, st.appended[cmds.ApplicationStream("AP-OLD1")], nil,
		[]domain.Event{application.RetentionEnded{ApplicationID: due.ApplicationID, CompletedAt: due.CompletedAt, EndedAt: now}}, nil)
	if len(res.Refused) != 1 || res.Refused[0].ID != "AP-AWAIT1" || !errors.Is(res.Refused[0].Err, application.ErrNotReceived) ||
		!slices.Equal(shred.shredded, []string{"AP-OLD1"}) || len(st.appended[cmds.ApplicationStream("AP-AWAIT1")]) != 0 {
		t.Fatalf("refused %+v, shredded %v; want AP-AWAIT1 refused untouched and AP-OLD1 shredded", res.Refused, shred.shredded)
	}
}
