package cards

import (
	"context"
	"errors"
	"sync"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

// BillingFacts is what a billing run reads from the views
// (projections/cards.Reader).
type BillingFacts interface {
	Contracts(ctx context.Context, only string) ([]projcards.ContractRow, error)
	CardRecords(ctx context.Context, contractNo string) ([]billing.CardRecord, error)
	Usage(ctx context.Context, cards []billing.CardRecord, month money.YearMonth) ([]billing.UsageRecord, error)
}

// InvoiceLines is the invoice line store (adapters/cardsdb.InvoiceLines):
// invoice events commit to their lines, which are kept here.
type InvoiceLines interface {
	// Keep returns the write that stores sets inside the append's
	// transaction (commands.Streams.AppendInTx). It may keep an
	// invoice's toll lines as a reference to their (immutable) usage
	// records; the write then fails with ErrUsageChanged when those
	// records are no longer exactly the lines'.
	Keep(sets ...billing.DocumentLines) es.TxWrite
	// Lines reads one stored line set back, in order.
	Lines(ctx context.Context, doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error)
}

// ErrUsageChanged: the usage records of a contract's month changed between
// the billing run's read and its append (a usage import committed in
// between), so the computed lines are not the records' any more. The run
// computes that contract again (RunBillingHandler.bill).
var ErrUsageChanged = errors.New("cards: the month's usage records changed during the billing run")

// usageRetries is how many times a contract is computed again after
// ErrUsageChanged before the run fails (re-running it bills the rest).
const usageRetries = 3

// LoadInvoice replays an invoice's stream with its lines: each event is
// hydrated from the line store and checked against its commitment
// (billing.Hydrate) before it is applied.
func LoadInvoice(ctx context.Context, s interface {
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
}, lines InvoiceLines, n billing.InvoiceNumber, inv *billing.Invoice) (int64, error) {
	var evs []domain.Event
	v, err := s.Load(ctx, InvoiceStream(n), func(e domain.Event) { evs = append(evs, e) })
	if err != nil {
		return 0, err
	}
	read := func(doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
		return lines.Lines(ctx, doc, part)
	}
	for _, e := range evs {
		h, err := billing.Hydrate(e, read)
		if err != nil {
			return 0, err
		}
		inv.Apply(h)
	}
	return v, nil
}

// RunBilling bills every contract for Month.
type RunBilling struct {
	Month money.YearMonth
	// Progress, if set, is called after each contract with the number done
	// and the number in all (for a progress bar).
	Progress func(done, total int) `json:"-"`
}

// BillingOutcome is what the run did for one contract.
type BillingOutcome struct {
	Invoice    string    `json:"invoice"`
	Contract   string    `json:"contract"`
	Action     string    `json:"action"` // issued, adjusted, unchanged, nothing_to_bill
	Adjustment string    `json:"adjustment,omitempty"`
	Total      money.Yen `json:"total"` // effective total after the run
}

// RunBillingHandler runs RunBilling: per contract it computes the month
// with billing.Compute from the card view and the month's usage records,
// then issues the invoice (stream per invoice number, InvoiceNumberFor) or,
// when already issued, reconciles: identical content → nothing; otherwise
// one adjustment referencing the original. Re-running a month changes
// nothing; an issued invoice is never rewritten.
type RunBillingHandler struct {
	Streams  EventStreams
	Reader   BillingFacts
	Lines    InvoiceLines
	Settings billing.Settings
	Clock    commands.Clock
	// Workers is how many contracts are billed at once (0 or 1: one).
	Workers int
	// WaitFor brings the views up to the store's head before reading.
	WaitFor func(ctx context.Context) error
}

func (h RunBillingHandler) Handle(ctx context.Context, cmd RunBilling) ([]BillingOutcome, es.Position, error) {
	if err := h.WaitFor(ctx); err != nil {
		return nil, es.Position{}, err
	}
	contracts, err := h.Reader.Contracts(ctx, "")
	if err != nil {
		return nil, es.Position{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	// Contracts are independent (one invoice stream each), so Workers of
	// them are billed at once; the outcomes keep the contracts' order.
	workers := min(max(h.Workers, 1), max(len(contracts), 1))
	out := make([]BillingOutcome, len(contracts))
	pos := make([]es.Position, len(contracts))
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o, p, err := h.bill(ctx, contracts[i], cmd.Month, today)
				for try := 0; errors.Is(err, ErrUsageChanged) && try < usageRetries; try++ {
					o, p, err = h.bill(ctx, contracts[i], cmd.Month, today)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[i], pos[i] = o, p
				done++
				if cmd.Progress != nil && err == nil && done < len(contracts) {
					cmd.Progress(done, len(contracts))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range contracts {
		// Ctrl-C (or a failed contract) stops handing out contracts: each
		// invoice is one append, so what was billed is whole, and a re-run
		// bills the rest.
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, es.Position{}, firstErr
	}
	var last es.Position
	for _, p := range pos {
		if last.Less(p) {
			last = p
		}
	}
	if cmd.Progress != nil {
		cmd.Progress(len(contracts), len(contracts))
	}
	return out, last, nil
}

// bill computes one contract's month and issues or reconciles its invoice.
func (h RunBillingHandler) bill(ctx context.Context, row projcards.ContractRow, month money.YearMonth, today domain.Date) (BillingOutcome, es.Position, error) {
	var at es.Position
	n, err := contract.ParseNumber(row.Contract)
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	cards, err := h.Reader.CardRecords(ctx, row.Contract)
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	usage, err := h.Reader.Usage(ctx, cards, month)
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	st, err := billing.Compute(h.Settings, billing.Customer{Contract: n, Name: row.CustomerName}, month, cards, usage)
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	number := billing.InvoiceNumberFor(n, month)
	stream := InvoiceStream(number)
	var inv billing.Invoice
	v, err := LoadInvoice(ctx, h.Streams, h.Lines, number, &inv)
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	o := BillingOutcome{Invoice: number.String(), Contract: row.Contract}
	var evs []domain.Event
	switch {
	case !inv.Issued() && len(st.Lines) == 0:
		o.Action = "nothing_to_bill"
	case !inv.Issued():
		evs, err = inv.Issue(number, st, today)
		o.Action, o.Total = "issued", st.Summary.Total
	default:
		evs, err = inv.Reconcile(st, today)
		o.Action, o.Total = "unchanged", inv.Effective().Summary.Total
		if len(evs) > 0 {
			a := evs[0].(billing.AdjustmentIssued)
			o.Action, o.Adjustment, o.Total = "adjusted", a.Adjustment.String(), st.Summary.Total
		}
	}
	if err != nil {
		return BillingOutcome{}, es.Position{}, err
	}
	if len(evs) > 0 {
		// The event commits to its lines; they are stored in the
		// append's transaction.
		var sets []billing.DocumentLines
		for _, e := range evs {
			if d, ok := e.(interface {
				DetailLines() []billing.DocumentLines
			}); ok {
				sets = append(sets, d.DetailLines()...)
			}
		}
		res, err := h.Streams.AppendInTx(ctx, stream, v, h.Lines.Keep(sets...), evs...)
		if err != nil {
			return BillingOutcome{}, es.Position{}, err
		}
		at = res.Position
	}
	return o, at, nil
}
