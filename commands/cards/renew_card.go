package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// RenewCard renews a card in use (更新発行) with a new number; Type zero
// keeps the card type.
type RenewCard struct {
	Card card.CardNumber
	Type card.Type
}

// RenewCardHandler runs RenewCard (see appendSuccession for atomicity).
type RenewCardHandler struct {
	Streams commands.Streams
	Leases  LeaseLookup
	Numbers CardNumbers
	InUse   InUse
	Clock   commands.Clock
}

func (h RenewCardHandler) Handle(ctx context.Context, cmd RenewCard) (card.CardNumber, es.AppendResult, error) {
	var c card.Card
	v, err := h.Streams.Load(ctx, CardStream(cmd.Card), c.Apply)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	if err := commands.CheckIfMatch(CardStream(cmd.Card), commands.IfMatchFrom(ctx), v); err != nil {
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
	probe, _ := card.NewCardNumber("9", 0)
	if _, err := c.Renew(card.RenewRequest{NewCard: probe, Type: cmd.Type}, lease, today); err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	sc, err := c.Renew(card.RenewRequest{NewCard: n, Type: cmd.Type}, lease, today)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	res, err := appendSuccession(ctx, h.Streams, h.InUse, sc, v, card.StateRenewed)
	return n, res, err
}
