package billing

import "github.com/gantry-etc/gantry/domain"

// Sentinel errors; match with errors.Is.
var (
	ErrInvalidUsage = domain.Invalid("invalid_usage_record",
		"The usage record is incomplete or inconsistent; check the road operator's EDI record.")
	ErrDuplicateUsage = domain.Invalid("duplicate_usage_record",
		"Two usage records share a road operator and record ID but differ; ask the road operator which one is correct.")
	ErrUnknownUsageCard = domain.Invalid("usage_card_unknown",
		"A usage record names a card that is not one of the customer's cards; pass every card of the contract or leave that record out.")
	ErrInvalidSettings = domain.Invalid("invalid_billing_settings",
		"Billing settings need the issuer name, its registration number and fees of zero or more yen.")
	ErrInvalidInvoiceNumber = domain.Invalid("invalid_invoice_number",
		"Give the invoice number as 1 to 64 ASCII letters, digits, hyphens or underscores.")
	ErrInvalidStatement = domain.Invalid("invalid_statement",
		"The invoice content needs a contract, a period and a recipient; compute it with Compute.")
	ErrStatementMismatch = domain.Invalid("statement_mismatch",
		"The recomputed statement is for another contract or month than the issued invoice.")
	ErrInvoiceIssued = domain.Conflict("invoice_already_issued",
		"This invoice has already been issued and is never rewritten; reconcile a recomputation instead.")
	ErrInvoiceNotIssued = domain.NotFound("invoice_not_issued",
		"No invoice has been issued with this number; issue it first.")
)
