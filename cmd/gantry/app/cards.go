package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-etc/gantry/adapters/bus"
	"github.com/gantry-etc/gantry/adapters/cardsdb"
	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/adapters/invoicepdf"
	"github.com/gantry-etc/gantry/adapters/jpholiday"
	"github.com/gantry-etc/gantry/adapters/lease"
	"github.com/gantry-etc/gantry/adapters/mail"
	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/cardsapi"
	"github.com/gantry-etc/gantry/commands"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/projections"
	projcards "github.com/gantry-etc/gantry/projections/cards"
	projruns "github.com/gantry-etc/gantry/projections/runs"
)

// Card and billing defaults (README: GANTRY_ISSUER_NAME, GANTRY_ISSUER_REGISTRATION,
// GANTRY_ANNUAL_FEE, GANTRY_CARD_PREFIX, GANTRY_LEASE_URL).
const (
	DefaultIssuerName         = "Gantry Leasing K.K."
	DefaultIssuerRegistration = "T7000012050002"
	DefaultCardPrefix         = "91234"
	// DefaultRenewalMailTo receives renewal notices: the contract records no
	// customer e-mail address, so the notice goes to the leasing company's
	// card desk, which forwards it (GANTRY_RENEWAL_MAIL_TO overrides).
	DefaultRenewalMailTo = "etc-cards@gantry.example"
)

// Durable bus handler names (topic and consumer group): renaming one
// re-delivers or skips messages.
const RenewalNoticeHandler = "cards_renewal_notice_mail"

// PrinterEDIProjector records issued cards for the printer EDI files
// (durable: the projector's checkpoint name). It was a bus handler of the
// same name before migration 02400.
const PrinterEDIProjector = "cards_printer_edi"

// printerFlushEvery is how often the printer EDI files are brought up to
// date with the recorded cards (edi.PrinterSink.Flush).
const printerFlushEvery = 200 * time.Millisecond

// BillingWorkers is how many contracts a billing run bills at once: the
// work is mostly PostgreSQL's (reading usage rows, writing invoice lines),
// so a few connections keep both cores busy.
const BillingWorkers = 4

// Job names (gantry jobs, a.RunJob).
const (
	JobCardsMonthEnd      = "cards-month-end"
	JobCardsRenewalNotice = "cards-renewal-notices"
	// JobCardsPurgeRuns deletes the progress of billing runs and uploads
	// not touched for runsKept.
	JobCardsPurgeRuns = "cards-purge-run-progress"
)

// runsKept is how long a run's progress stays readable.
const runsKept = 7 * 24 * time.Hour

// CardsFeature is the corporate ETC card and billing feature.
type CardsFeature struct {
	d          Deps
	Service    *cardsapi.Service
	Leases     lease.Registry
	MonthEnd   cmdcards.MonthEndHandler
	Notices    cmdcards.RenewalNoticesHandler
	Printer    edi.PrinterSink
	moveLegacy cmdcards.MoveLegacyRegistryHandler
	mailTo     string
}

func newCardsFeature(d Deps) (Feature, error) {
	name := d.Config.Extra["GANTRY_ISSUER_NAME"]
	if name == "" {
		name = DefaultIssuerName
	}
	regS := d.Config.Extra["GANTRY_ISSUER_REGISTRATION"]
	if regS == "" {
		regS = DefaultIssuerRegistration
	}
	reg, err := money.ParseRegistrationNumber(regS)
	if err != nil {
		return nil, fmt.Errorf("GANTRY_ISSUER_REGISTRATION: %w", err)
	}
	annual, err := d.Config.Int("GANTRY_ANNUAL_FEE", int64(billing.DefaultAnnualFee))
	if err != nil {
		return nil, err
	}
	settings, err := billing.NewSettings(name, reg, billing.DefaultIssueFee, money.Yen(annual))
	if err != nil {
		return nil, fmt.Errorf("cards settings: %w", err)
	}
	prefix := d.Config.Extra["GANTRY_CARD_PREFIX"]
	if prefix == "" {
		prefix = DefaultCardPrefix
	}
	if _, err := card.NewCardNumber(prefix, 0); err != nil {
		return nil, fmt.Errorf("GANTRY_CARD_PREFIX: %w", err)
	}
	f := &CardsFeature{d: d, Leases: lease.Registry{Pool: d.Pool, Leases: &lease.Leases{}}, Printer: edi.PrinterSink{Pool: d.Pool, Dir: d.Config.EDIDir}, mailTo: DefaultRenewalMailTo}
	if v := d.Config.Extra["GANTRY_RENEWAL_MAIL_TO"]; v != "" {
		f.mailTo = v
	}
	var leases cmdcards.LeaseLookup = f.Leases
	if u := d.Config.Extra["GANTRY_LEASE_URL"]; u != "" {
		leases = lease.NewHTTPClient(u, 5*time.Second)
	}
	numbers := cardsdb.Numbers{Pool: d.Pool, Prefix: prefix}
	// A usage file's records commit with its event: the store must append
	// within the import's transaction (adapters/postgres.Store does).
	txStore, ok := d.Streams.Store.(commands.TxStore[pgx.Tx])
	if !ok {
		return nil, fmt.Errorf("cards: the event store %T cannot append within a transaction, which the usage import needs", d.Streams.Store)
	}
	reader := projcards.Reader{Pool: d.Pool, Keys: d.Sealer, Claims: projcards.ClaimStreamCards{Streams: d.Streams, StreamOf: cmdcards.VehicleStream}}
	lines := cardsdb.InvoiceLines{Pool: d.Pool}
	waitHead := func(ctx context.Context) error {
		var head es.Position
		head, err := d.Streams.Store.Head(ctx)
		if err != nil {
			return err
		}
		return d.WaitFor(ctx, head)
	}
	f.Service = &cardsapi.Service{
		Conclude:  cmdcards.ConcludeContractHandler{Streams: d.Streams, Leases: leases, Clock: d.Clock},
		Issue:     cmdcards.IssueCardHandler{Streams: d.Streams, Leases: leases, Numbers: numbers, Clock: d.Clock, Contracts: &cmdcards.ContractStates{}},
		Renew:     cmdcards.RenewCardHandler{Streams: d.Streams, Leases: leases, Numbers: numbers, Clock: d.Clock},
		Reissue:   cmdcards.ReissueCardHandler{Streams: d.Streams, Numbers: numbers, Clock: d.Clock},
		Usage:     cmdcards.ImportUsageHandler{Streams: d.Streams, Reader: edi.UsageReader{}, Store: cardsdb.UsageStore{Streams: d.Streams, Store: txStore}, Clock: d.Clock},
		Billing:   cmdcards.RunBillingHandler{Streams: d.Streams, Lines: lines, Reader: reader, Settings: settings, Clock: d.Clock, WaitFor: waitHead, Workers: BillingWorkers},
		Reader:    reader,
		Invoices:  projcards.InvoiceReader{Streams: d.Streams, Lines: lines, StreamOf: cmdcards.InvoiceStream},
		Holidays:  jpholiday.Calendar{},
		WaitFor:   d.WaitFor,
		RenderPDF: invoicepdf.Renderer{FontPath: invoicepdf.DefaultFont}.Render,
		Progress:  postgres.RunLog{Pool: d.Pool},
		Runs:      projruns.Reader{Pool: d.Pool},
	}
	f.MonthEnd = cmdcards.MonthEndHandler{Streams: d.Streams, Due: reader, Clock: d.Clock}
	f.moveLegacy = cmdcards.MoveLegacyRegistryHandler{Streams: d.Streams, Legacy: cardsdb.LegacyRegistry{Pool: d.Pool}}
	f.Notices = cmdcards.RenewalNoticesHandler{Streams: d.Streams, Due: reader, Clock: d.Clock}
	return f, nil
}

// Events wires the card business's event types and upcasters, declared
// beside the commands that write them (cmdcards.RegisterEvents).
func (f *CardsFeature) Events(reg *es.Registry) { cmdcards.RegisterEvents(reg) }

// Prepare moves the retired card registry into vehicle claim streams
// (once; see cmdcards.MoveLegacyRegistryHandler).
func (f *CardsFeature) Prepare(ctx context.Context) error {
	n, err := f.moveLegacy.Handle(ctx)
	if n > 0 {
		f.d.Log.Info("card registry moved into vehicle claim streams", "claims", n)
	}
	return err
}

func (f *CardsFeature) Projectors() []projections.Projector {
	return []projections.Projector{projcards.Cards{Seal: f.d.Sealer}, projcards.Invoices{}, printerProjector{f.Printer}}
}

// printerProjector records each issued card (new, renewal, reissue) for the
// printer EDI file of the day it was issued, a batch of events per
// statement, in the projector's transaction (edi.PrinterSink.Record);
// Background appends them to the files.
type printerProjector struct{ sink edi.PrinterSink }

func (printerProjector) Name() string                        { return PrinterEDIProjector }
func (printerProjector) EventTypes() []string                { return []string{card.EventIssued} }
func (printerProjector) Setup(context.Context, pgx.Tx) error { return nil } // migrations 02000, 02101, 02400

func (p printerProjector) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	entries := make([]edi.PrinterEntry, 0, len(evs))
	for _, ev := range evs {
		if e, ok := ev.Payload.(card.Issued); ok {
			entries = append(entries, edi.PrinterEntry{EventID: ev.ID, Day: domain.DateOf(ev.RecordedAt), Record: e.PrinterRecord()})
		}
	}
	return p.sink.Record(ctx, tx, entries)
}

// Background appends the recorded cards to the printer EDI files every
// printerFlushEvery until ctx ends. Every process runs it; one at a time
// writes (edi.PrinterSink.Flush).
func (f *CardsFeature) Background(ctx context.Context, a *App) {
	t := time.NewTicker(printerFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := f.Printer.Flush(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.Log.Error("writing the printer EDI files", "err", err.Error())
				}
				break
			}
			if n == 0 {
				break
			}
		}
	}
}

func (f *CardsFeature) Handlers() []bus.Handler {
	return []bus.Handler{
		{Name: RenewalNoticeHandler, Types: []string{card.EventRenewalNoticeRecorded}, Handle: f.handleNotice},
	}
}

// handleNotice mails the renewal notice once per event (mail_sent).
func (f *CardsFeature) handleNotice(ctx context.Context, ev es.Event) error {
	e, ok := ev.Payload.(card.RenewalNoticeRecorded)
	if !ok {
		return nil
	}
	var sent bool
	if err := f.d.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_sent WHERE event_id = $1 AND handler = $2)`, ev.ID, RenewalNoticeHandler).Scan(&sent); err != nil {
		return err
	}
	if sent {
		return nil
	}
	// Sent through the mail adapter, so a mail server that is down delays
	// the notice (the bus keeps retrying) instead of losing it.
	sender := mail.Sender{Addr: f.d.Config.SMTPAddr, From: f.d.Config.MailFrom}
	if err := sender.Send(ctx, mail.Message{
		ID: ev.ID.String() + "@" + RenewalNoticeHandler + ".gantry", To: f.mailTo,
		Subject: "ETCカード更新のご案内 / ETC card renewal notice " + e.Card.String(),
		Body: "ETCカード " + e.Card.String() + " の有効期限は " + e.Expiry.EDI() + " です。更新をご希望の場合はお申し出ください。\r\n" +
			"Card " + e.Card.String() + " expires at the end of " + e.Expiry.String() + ". Ask us to renew it.\r\n",
	}); err != nil {
		return err
	}
	_, err := f.d.Pool.Exec(ctx, `INSERT INTO mail_sent (event_id, handler) VALUES ($1,$2) ON CONFLICT DO NOTHING`, ev.ID, RenewalNoticeHandler)
	return err
}

func (f *CardsFeature) Routes(s *api.Server) { f.Service.Routes(s) }

func (f *CardsFeature) Jobs() []Job {
	return []Job{
		{Name: JobCardsMonthEnd, Every: time.Hour, Run: func(ctx context.Context) error { _, err := f.MonthEnd.Handle(ctx); return err }},
		{Name: JobCardsRenewalNotice, Every: time.Hour, Run: func(ctx context.Context) error { _, err := f.Notices.Handle(ctx); return err }},
		{Name: JobCardsPurgeRuns, Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := postgres.RunLog{Pool: f.d.Pool}.Purge(ctx, runsKept)
			return err
		}},
	}
}

// Cards returns the cards feature of a, or nil.
func (a *App) Cards() *CardsFeature {
	for _, f := range a.Features {
		if c, ok := f.(*CardsFeature); ok {
			return c
		}
	}
	return nil
}

// hydrateInvoices gives invoice events their lines from the line store,
// checked against their commitments (for the auditors' state as of a date).
func hydrateInvoices(pool *pgxpool.Pool) func(ctx context.Context, e domain.Event) (domain.Event, error) {
	lines := cardsdb.InvoiceLines{Pool: pool}
	return func(ctx context.Context, e domain.Event) (domain.Event, error) {
		return billing.Hydrate(e, func(doc billing.InvoiceNumber, part billing.LinePart) ([]billing.Line, error) {
			return lines.Lines(ctx, doc, part)
		})
	}
}
