package cards

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-etc/gantry/projections"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/billing"
)

// InvoicesName is the invoice projector's durable name (checkpoint key,
// schema proj_invoices).
const InvoicesName = "invoices"

// Invoices projects issued invoices and adjustments as documents that
// finance searches by issue date, amount and customer (電子帳簿保存法), and
// the billing totals per month (a query over documents).
type Invoices struct{}

func (Invoices) Name() string { return InvoicesName }

// EventTypes implements projections.Selective.
func (Invoices) EventTypes() []string {
	return projections.TypesOf(billing.InvoiceIssued{}, billing.AdjustmentIssued{})
}

func (Invoices) Setup(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS documents (
    number      text PRIMARY KEY,
    kind        text NOT NULL,      -- invoice, credit, debit, correction
    invoice     text NOT NULL,      -- the original invoice (itself for an invoice)
    contract    text NOT NULL,
    customer    text NOT NULL,
    period      text NOT NULL,
    issued_on   date NOT NULL,
    tolls       bigint NOT NULL,
    fees        bigint NOT NULL,
    tax         bigint NOT NULL,
    total       bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_issued ON documents (issued_on);
CREATE INDEX IF NOT EXISTS documents_total ON documents (total);
CREATE INDEX IF NOT EXISTS documents_contract ON documents (contract);
`)
	return err
}

func tax(s billing.Summary) int64 {
	var t int64
	for _, r := range s.Taxes {
		t += int64(r.Tax)
	}
	return t
}

func (Invoices) Apply(ctx context.Context, tx pgx.Tx, events []es.Event) error {
	b := &pgx.Batch{}
	for _, ev := range events {
		switch e := ev.Payload.(type) {
		case billing.InvoiceIssued:
			s := e.Statement
			b.Queue(`INSERT INTO documents VALUES ($1,'invoice',$1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING`,
				e.Invoice.String(), s.Contract.String(), s.Recipient, s.Period.String(), e.IssuedOn.String(),
				int64(s.Summary.Tolls), int64(s.Summary.IssueFees+s.Summary.AnnualFees), tax(s.Summary), int64(s.Summary.Total))
		case billing.AdjustmentIssued:
			s := e.Summary
			b.Queue(`INSERT INTO documents SELECT $1,$2,$3,$4,i.customer,$5,$6,$7,$8,$9,$10 FROM documents i WHERE i.number = $3 ON CONFLICT DO NOTHING`,
				e.Adjustment.String(), string(e.Kind), e.Invoice.String(), e.Contract.String(), e.Period.String(), e.IssuedOn.String(),
				int64(s.Tolls), int64(s.IssueFees+s.AnnualFees), tax(s), int64(s.Total))
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
