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
	c, res, err := h.HandleCard(ctx, cmd)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	return c.Number(), res, nil
}

// HandleCard runs cmd like Handle and answers the new card as the command
// decided it (its own events applied; a replay reads them from the card's
// stream): the caller can answer at once, without waiting for a view.
func (h RenewCardHandler) HandleCard(ctx context.Context, cmd RenewCard) (*card.Card, es.AppendResult, error) {
	if c, res, ok, err := replayed(ctx, h.Streams, h.Numbers); ok || err != nil {
		return c, res, err
	}
	c, v, err := loadForSuccession(ctx, h.Streams, cmd.Card, cmd.ExpectedVersion)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if !c.Issued() {
		return nil, es.AppendResult{}, card.ErrCardNotFound
	}
	lease, err := h.Leases.Lookup(ctx, c.Contract())
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	if _, err := c.Renew(card.RenewRequest{NewCard: placeholder, Type: cmd.Type}, lease, today); err != nil {
		return nil, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx, commands.MetadataFrom(ctx).CommandID)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	sc, err := c.Renew(card.RenewRequest{NewCard: n, Type: cmd.Type}, lease, today)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	res, err := appendSuccession(ctx, h.Streams, sc, v, c.Vehicle())
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	return decided(sc.NewEvents), res, nil
}
