package bench_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

type phases struct {
	mu sync.Mutex
	d  map[string]time.Duration
}

func (p *phases) add(name string, since time.Time) {
	p.mu.Lock()
	p.d[name] += time.Since(since)
	p.mu.Unlock()
}

func (p *phases) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprint(p.d)
}

type timedFacts struct {
	cmdcards.BillingFacts
	p *phases
}

func (t timedFacts) Contracts(ctx context.Context, only string) ([]projcards.ContractRow, error) {
	s := time.Now()
	defer t.p.add("contracts", s)
	return t.BillingFacts.Contracts(ctx, only)
}
func (t timedFacts) CardRecords(ctx context.Context, c string) ([]billing.CardRecord, error) {
	s := time.Now()
	defer t.p.add("cards", s)
	return t.BillingFacts.CardRecords(ctx, c)
}
func (t timedFacts) Usage(ctx context.Context, cards []billing.CardRecord, m money.YearMonth) ([]billing.UsageRecord, error) {
	s := time.Now()
	defer t.p.add("usage", s)
	return t.BillingFacts.Usage(ctx, cards, m)
}

type timedStreams struct {
	cmdcards.EventStreams
	p *phases
}

func (t timedStreams) Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error) {
	s := time.Now()
	defer t.p.add("load", s)
	return t.EventStreams.Load(ctx, stream, apply)
}
func (t timedStreams) Append(ctx context.Context, stream string, expected int64, events ...domain.Event) (es.AppendResult, error) {
	s := time.Now()
	defer t.p.add("append", s)
	return t.EventStreams.Append(ctx, stream, expected, events...)
}
func (t timedStreams) AppendMany(ctx context.Context, parts ...commands.StreamEvents) ([]es.AppendResult, error) {
	return t.EventStreams.AppendMany(ctx, parts...)
}

func timed(h cmdcards.RunBillingHandler, p *phases) cmdcards.RunBillingHandler {
	h.Reader = timedFacts{h.Reader, p}
	h.Streams = timedStreams{h.Streams, p}
	w := h.WaitFor
	h.WaitFor = func(ctx context.Context) error {
		s := time.Now()
		defer p.add("wait_views", s)
		return w(ctx)
	}
	return h
}
