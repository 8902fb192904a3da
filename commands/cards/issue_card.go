package cards

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// IssueCard issues a new card (新規発行) for a leased vehicle of a concluded
// contract.
type IssueCard struct {
	Contract contract.Number
	Vehicle  contract.VehicleNumber
	Type     card.Type
}

// IssueCardHandler runs IssueCard. Concurrency: the card registry's unique
// index admits one in-use card per vehicle, so of two concurrent issues for
// one vehicle exactly one succeeds and the other gets card.ErrCardInUse
// (409). Card numbers come from a sequence and never repeat.
type IssueCardHandler struct {
	Streams commands.Streams
	Leases  LeaseLookup
	Numbers CardNumbers
	InUse   InUse
	Clock   commands.Clock
}

func (h IssueCardHandler) Handle(ctx context.Context, cmd IssueCard) (card.CardNumber, es.AppendResult, error) {
	var k contract.Contract
	if _, err := h.Streams.Load(ctx, ContractStream(cmd.Contract), k.Apply); err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	if !k.Concluded() {
		return card.CardNumber{}, es.AppendResult{}, contract.ErrContractNotFound.Withf("contract", "No ETC service contract has been concluded for lease %s.", cmd.Contract)
	}
	lease, err := h.Leases.Lookup(ctx, cmd.Contract)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	req := card.IssueRequest{Contract: cmd.Contract, AlphaName: k.AlphaName(), Vehicle: cmd.Vehicle, Type: cmd.Type}
	// Decide once with a placeholder number so invalid requests allocate nothing.
	probe, _ := card.NewCardNumber("9", 0)
	req.Card = probe
	var none card.Card
	if _, err := none.Issue(req, lease, false, today); err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	req.Card = n
	var c card.Card
	evs, err := c.Issue(req, lease, false, today)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	if err := h.InUse.Reserve(ctx, n, cmd.Contract, cmd.Vehicle); err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	res, err := h.Streams.Append(ctx, CardStream(n), int64(es.NoStream), evs...)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, errors.Join(err, h.InUse.Release(context.WithoutCancel(ctx), n))
	}
	return n, res, nil
}
