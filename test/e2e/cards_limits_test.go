package e2e_test

import (
	"time"

	"github.com/gantry-etc/gantry/api"
)

// roomyCardsLimits keep the rate limits out of the way of the card tests
// (abuse_test.go tests the limits).
func roomyCardsLimits() map[string]api.Rates {
	l := api.DefaultLimits()
	for k := range l {
		l[k] = api.Rates{Addr: api.Rate{N: 100_000, Per: time.Minute}, Target: api.Rate{N: 100_000, Per: time.Minute}}
	}
	return l
}
