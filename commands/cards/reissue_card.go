package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
)

// ReissueCard reissues a card in use (再発行) for one of the four reasons,
// as given by the customer (code or Japanese label). ExpectedVersion is the
// old card's version the caller read (If-Match), or NoExpectedVersion.
type ReissueCard struct {
	Card            card.CardNumber
	Reason          string
	Type            card.Type
	ExpectedVersion int64
}

// ReissueCardHandler runs ReissueCard (see appendSuccession).
type ReissueCardHandler struct {
	Streams EventStreams
	Numbers CardNumbers
	Clock   commands.Clock
}

func (h ReissueCardHandler) Handle(ctx context.Context, cmd ReissueCard) (card.CardNumber, es.AppendResult, error) {
	c, res, err := h.HandleCard(ctx, cmd)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	return c.Number(), res, nil
}

// HandleCard runs cmd like Handle and answers the new card as the command
// decided it (its own events applied; a replay reads them from the card's
// stream): the caller can answer at once, without waiting for a view.
func (h ReissueCardHandler) HandleCard(ctx context.Context, cmd ReissueCard) (*card.Card, es.AppendResult, error) {
	reason, err := card.ParseReissueReason(cmd.Reason)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if c, res, ok, err := replayed(ctx, h.Streams, h.Numbers); ok || err != nil {
		return c, res, err
	}
	c, v, err := loadForSuccession(ctx, h.Streams, cmd.Card, cmd.ExpectedVersion)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	if _, err := c.Reissue(card.ReissueRequest{NewCard: placeholder, Reason: reason, Type: cmd.Type}, today); err != nil {
		return nil, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx, commands.MetadataFrom(ctx).CommandID)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	sc, err := c.Reissue(card.ReissueRequest{NewCard: n, Reason: reason, Type: cmd.Type}, today)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	res, err := appendSuccession(ctx, h.Streams, sc, v, c.Vehicle())
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	return decided(sc.NewEvents), res, nil
}
