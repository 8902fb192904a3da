package application_test

import (
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/domaintest"
)

// TestExpiryDueIfCompletedByAgreesWithExpire: the finders of due work select
// by ExpiryDueIfCompletedBy, so it must name exactly the applications Expire
// accepts: completed at the cut-off is due, an instant later is not.
func TestExpiryDueIfCompletedByAgreesWithExpire(t *testing.T) {
	for _, now := range []time.Time{domaintest.At("2026-06-10T12:00"), domaintest.At("2027-03-01T00:00"), domaintest.At("2028-02-29T23:59")} {
		cut := application.ExpiryDueIfCompletedBy(now)
		for _, tt := range []struct {
			completed time.Time
			due       bool
		}{{cut, true}, {cut.Add(-time.Hour), true}, {cut.Add(time.Nanosecond), false}} {
			c := completed()
			c.CompletedAt = tt.completed
			a := application.New()
			a.Apply(c)
			evs, err := a.Expire(now)
			if due := err == nil && len(evs) == 1; due != tt.due {
				t.Errorf("now %v, completed %v: expire gave %v, %v; want due=%v", now, tt.completed, evs, err, tt.due)
			}
		}
	}
}
