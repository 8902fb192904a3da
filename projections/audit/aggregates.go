package audit

import (
	"strings"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/setup"
)

// fold replays one aggregate with its domain's own Apply and shows its state.
type fold struct {
	apply    func(domain.Event)
	snapshot func() any
}

// aggregates maps a stream ID's prefix (the stream names of commands/setup
// and commands/cards) to its aggregate kind and a fresh fold. Streams of
// other kinds (audit reads, usage files) have a history but no aggregate.
var aggregates = []struct {
	prefix, kind string
	fold         func() fold
}{
	{"application-", "application", func() fold { a := application.New(); return fold{a.Apply, func() any { return a.Snapshot() }} }},
	{"consent-", "consent", func() fold {
		c := application.NewProxyConsent()
		return fold{c.Apply, func() any { return c.Snapshot() }}
	}},
	{"setup-", "setup", func() fold { s := setup.New(); return fold{s.Apply, func() any { return s.Snapshot() }} }},
	{"certificate-", "certificate", func() fold { c := certificate.New(); return fold{c.Apply, func() any { return c.Snapshot() }} }},
	{"contract-", "contract", func() fold { var c contract.Contract; return fold{c.Apply, func() any { return c.Snapshot() }} }},
	{"card-", "card", func() fold { var c card.Card; return fold{c.Apply, func() any { return c.Snapshot() }} }},
	{"invoice-", "invoice", func() fold { var i billing.Invoice; return fold{i.Apply, func() any { return i.Snapshot() }} }},
}

// aggregateOf returns the kind and a fresh fold for stream, or ok false.
func aggregateOf(stream string) (kind string, f fold, ok bool) {
	for _, a := range aggregates {
		if strings.HasPrefix(stream, a.prefix) && len(stream) > len(a.prefix) {
			return a.kind, a.fold(), true
		}
	}
	return "", fold{}, false
}

// AggregateKinds lists the stream prefixes whose state can be read as of an
// instant.
func AggregateKinds() []string {
	out := make([]string, len(aggregates))
	for i, a := range aggregates {
		out[i] = a.prefix + "…"
	}
	return out
}
