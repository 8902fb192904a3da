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

// IssueCardHandler runs IssueCard. The new card's stream (expecting no
// stream: the card number is unique) and the vehicle's claim stream (at the
// version loaded: one card in use per vehicle) are appended in ONE
// event-store transaction, so both are written or neither. Of two
// concurrent issues for one vehicle exactly one commits; the other finds the
// claim stream moved and gets card.ErrCardInUse (409). A retry with the same
// command ID gets the same card number (CardNumbers) and so the first result.
type IssueCardHandler struct {
	Streams EventStreams
	Leases  LeaseLookup
	Numbers CardNumbers
	Clock   commands.Clock
	// Contracts keeps the contracts' states between issues (nil: each
	// issue replays the contract's stream).
	Contracts *ContractStates
}

func (h IssueCardHandler) Handle(ctx context.Context, cmd IssueCard) (card.CardNumber, es.AppendResult, error) {
	c, res, err := h.HandleCard(ctx, cmd)
	if err != nil {
		return card.CardNumber{}, es.AppendResult{}, err
	}
	return c.Number(), res, nil
}

// HandleCard runs cmd like Handle and answers the new card as the command
// decided it (its own events applied; a replay reads them from the card's
// stream): the caller can answer at once, without waiting for a view.
func (h IssueCardHandler) HandleCard(ctx context.Context, cmd IssueCard) (*card.Card, es.AppendResult, error) {
	if c, res, ok, err := replayed(ctx, h.Streams, h.Numbers); ok || err != nil {
		return c, res, err
	}
	k, err := h.Contracts.load(ctx, h.Streams, cmd.Contract)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if !k.concluded {
		return nil, es.AppendResult{}, contract.ErrContractNotFound.Withf("contract", "No ETC service contract has been concluded for lease %s.", cmd.Contract)
	}
	lease, err := h.Leases.Lookup(ctx, cmd.Contract)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	var claim card.VehicleClaim
	claimVersion, err := h.Streams.Load(ctx, VehicleStream(cmd.Vehicle), claim.Apply)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	today := domain.DateOf(h.Clock.Now())
	req := card.IssueRequest{Contract: cmd.Contract, AlphaName: k.alphaName, Vehicle: cmd.Vehicle, Type: cmd.Type}
	// Decide once with a placeholder number so invalid requests allocate nothing.
	req.Card = placeholder
	var none card.Card
	if _, err := none.Issue(req, lease, !claim.InUse().IsZero(), today); err != nil {
		return nil, es.AppendResult{}, err
	}
	n, err := h.Numbers.Next(ctx, commands.MetadataFrom(ctx).CommandID)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	req.Card = n
	var c card.Card
	evs, err := c.Issue(req, lease, false, today)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	claimed, err := claim.Claim(cmd.Vehicle, n)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	res, err := h.Streams.AppendMany(ctx,
		commands.StreamEvents{Stream: CardStream(n), Expected: int64(es.NoStream), Events: evs},
		commands.StreamEvents{Stream: VehicleStream(cmd.Vehicle), Expected: claimVersion, Events: claimed})
	if err != nil {
		return nil, es.AppendResult{}, claimConflict(err, cmd.Vehicle)
	}
	return decided(evs), last(res), nil
}

// placeholder is a valid card number for the first decision, before a real
// number is allocated.
var placeholder, _ = card.NewCardNumber("9", 0)

// claimConflict turns a lost race on a vehicle claim stream into
// card.ErrCardInUse; other errors pass unchanged.
func claimConflict(err error, v contract.VehicleNumber) error {
	var wv *es.WrongVersionError
	if errors.As(err, &wv) && wv.Stream == VehicleStream(v) {
		return errors.Join(card.ErrCardInUse.Withf("vehicle", "Vehicle %s got another card in use meanwhile; look it up and renew or reissue that card.", v), err)
	}
	return err
}

// last is the result with the highest position (what a reader must wait for).
func last(rs []es.AppendResult) es.AppendResult {
	var out es.AppendResult
	for i, r := range rs {
		if i == 0 || out.Position.Less(r.Position) {
			out = r
		}
	}
	return out
}
