package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// RenewCard renews a card in use (更新発行) with a new number; Type zero
// keeps the card type. ExpectedVersion is the old card's version the caller
// read (If-Match), or NoExpectedVersion.
type RenewCard struct {
	Card            card.CardNumber
	Type            card.Type
	ExpectedVersion int64
}

// RenewCardHandler runs RenewCard (see appendSuccession for atomicity).
type RenewCardHandler struct {
	Streams EventStreams
	Leases  LeaseLookup
	Numbers CardNumbers
	Clock   commands.Clock
}

func (h RenewCardHandler) Handle(ctx context.Context, cmd RenewCard) (card.CardNumber, es.AppendResult, error) {
	if n, res, ok, err := replayed(ctx, h.Streams, h.Numbers); ok || err != nil {
		return n, res, err
	}
	c, v, err := loadForSuccession(ctx, h.Streams, cmd.Card, cmd.ExpectedVersion)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	if !c.Issued() {
		return card.CardNumber{}, es.AppendResult{}, card.ErrCardNotFound
	}
	lease, err := h.Leases.Lookup(ctx, c.Contract())
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	if _, err := c.Renew(card.RenewRequest{NewCard: placeholder, Type: cmd.Type}, lease, today); err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx, commands.MetadataFrom(ctx).CommandID)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	sc, err := c.Renew(card.RenewRequest{NewCard: n, Type: cmd.Type}, lease, today)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	res, err := appendSuccession(ctx, h.Streams, sc, v, c.Vehicle())
	return n, res, err
}
