// Package billing computes a customer's monthly ETC invoice and holds the
// Invoice aggregate (stream ID: the invoice number, one per contract and
// month). Compute is a pure function of its inputs; the Invoice aggregate
// records what was issued and never rewrites it: a later recomputation of
// the same month that differs becomes an adjustment (credit or debit) that
// references the original invoice number.
//
// Rules decided here (see Compute for details):
//   - Tolls (通行料金) are pass-through (立替金): not taxed, kept apart.
//     A usage belongs to the month of its usage date = the Japan-time date it
//     entered the toll road. A record arriving after its month was invoiced is
//     billed by reconciling that month (an adjustment), not in a later month.
//   - Card issue fee per card issued in the month (new, renewal, reissue),
//     except reissues for 磁気不良 (magnetic fault) or 破損 (damage): no line.
//   - Annual fee once per card chain (a card and the renewals/reissues that
//     carried its first issue date over) in the first-issue month and every
//     12 months after, if a card of the chain was in use at some time during
//     the month; it is billed on the latest card of the chain in use during
//     the month, so a card replaced mid-month and its successor are billed
//     once, on the successor.
//   - Consumption tax: standard rate 10% on the lessor's own lines (fees,
//     amounts excluding tax), computed once per invoice per rate on the sum of
//     the lines at that rate and rounded down (切り捨て, TaxRounding).
package billing
