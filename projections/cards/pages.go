package cards

import (
	"context"

	"github.com/gantry-etc/gantry/projections"
)

// CardsPage is one page of Cards (keyset on the card number).
func (r Reader) CardsPage(ctx context.Context, f CardFilter, page projections.PageRequest) (projections.Page[CardRow], error) {
	rows, err := r.cards(ctx, f, page.Key(0), page.Limit())
	return projections.Paginate(page, rows, func(c CardRow) []string { return []string{c.Card} }), err
}

// DocumentsPage is one page of Documents (keyset on issue date and number).
func (r Reader) DocumentsPage(ctx context.Context, f DocumentFilter, page projections.PageRequest) (projections.Page[DocumentRow], error) {
	rows, err := r.documents(ctx, f, page.After, page.Limit())
	return projections.Paginate(page, rows, func(d DocumentRow) []string { return []string{d.IssuedOn, d.Number} }), err
}

func key(after []string, i int) string {
	if i >= len(after) {
		return ""
	}
	return after[i]
}
