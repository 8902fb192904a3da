package application_test

import (
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

// TestDueIfCompletedByAgreesWithTheRules: the finders of due work select by
// completion time with ExpiryDueIfCompletedBy and RetentionDueIfCompletedBy,
// so these must never miss an application the rule makes due: whatever
// completed after the cut-off is not due yet. (An application completed at
// the cut-off is due, except that RetentionDueIfCompletedBy may name one
// extra candidate around 29 February, which EndRetention refuses.)
func TestDueIfCompletedByAgreesWithTheRules(t *testing.T) {
	for _, now := range []time.Time{domaintest.At("2026-06-10T12:00"), domaintest.At("2027-03-01T00:00"), domaintest.At("2028-02-29T23:59"), domaintest.At("2029-03-01T10:00")} {
		expiryCut, retentionCut := application.ExpiryDueIfCompletedBy(now), application.RetentionDueIfCompletedBy(now)
		for _, tt := range []struct {
			completed time.Time
			due       bool
		}{{expiryCut, true}, {expiryCut.Add(-time.Hour), true}, {expiryCut.Add(time.Nanosecond), false}} {
			evs, err := withCompletion(tt.completed).Expire(now)
			if due := err == nil && len(evs) == 1; due != tt.due {
				t.Errorf("expiry at %v of completion %v: %v, %v; want due=%v", now, tt.completed, evs, err, tt.due)
			}
		}
		for _, c := range []time.Time{retentionCut.Add(time.Nanosecond), retentionCut.Add(24 * time.Hour)} {
			a := withCompletion(c)
			a.Apply(application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: c})
			if evs, err := a.EndRetention(now); err == nil || len(evs) != 0 {
				t.Errorf("retention at %v of completion %v after the cut-off %v: ended; a finder would have missed it", now, c, retentionCut)
			}
		}
		a := withCompletion(retentionCut.AddDate(0, 0, -1)) // a day before: clear of 29 February
		a.Apply(application.Received{ApplicationID: appID, StoreID: "S001", StaffID: "ST01", ReceivedAt: retentionCut})
		if evs, err := a.EndRetention(now); err != nil || len(evs) != 1 {
			t.Errorf("retention at %v of completion before the cut-off %v: %v, %v; want ended", now, retentionCut, evs, err)
		}
		if !application.ReceptionDeadlineOf(expiryCut).Equal(now) {
			t.Errorf("deadline of a completion at the expiry cut-off is %v, want %v", application.ReceptionDeadlineOf(expiryCut), now)
		}
	}
	// Completed on 29 February: the 5 years end on 1 March, and the finder names it then.
	leap := domaintest.At("2024-02-29T10:00")
	if end := application.RetentionEndOf(leap); !end.Equal(domaintest.At("2029-03-01T10:00")) || application.RetentionDueIfCompletedBy(end).Before(leap) {
		t.Errorf("29 February: end %v, cut-off at the end %v", end, application.RetentionDueIfCompletedBy(end))
	}
}

func withCompletion(at time.Time) *application.Application {
	c := completed()
	c.CompletedAt = at
	a := application.New()
	a.Apply(c)
	return a
}
