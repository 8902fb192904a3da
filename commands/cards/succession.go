package cards

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// appendSuccession appends a renewal or reissue as ONE event-store
// transaction (AppendMany) of three streams:
//   - the old card's OldEvents at the version loaded (two concurrent
//     successions of one card cannot both win);
//   - the new card's NewEvents expecting no stream (card numbers are unique);
//   - the vehicle's claim handing "in use" from the old card to the new one,
//     at the claim version loaded (one card in use per vehicle).
//
// All three commit or none does: there is no registry written before or
// after and nothing to undo. A retry after any failure reloads and decides
// again; a retry of a committed command (same command ID) gets the same
// card number and the first result.
func appendSuccession(ctx context.Context, s EventStreams, sc card.Succession, oldVersion int64, vehicle contract.VehicleNumber) (es.AppendResult, error) {
	var claim card.VehicleClaim
	claimVersion, err := s.Load(ctx, VehicleStream(vehicle), claim.Apply)
	if err != nil {
		return es.AppendResult{}, err
	}
	claimed, err := claim.Succeed(vehicle, sc.Old, sc.New)
	if err != nil {
		return es.AppendResult{}, err
	}
	res, err := s.AppendMany(ctx,
		commands.StreamEvents{Stream: CardStream(sc.Old), Expected: oldVersion, Events: sc.OldEvents},
		commands.StreamEvents{Stream: CardStream(sc.New), Expected: int64(es.NoStream), Events: sc.NewEvents},
		commands.StreamEvents{Stream: VehicleStream(vehicle), Expected: claimVersion, Events: claimed})
	var wv *es.WrongVersionError
	if errors.As(err, &wv) && wv.Stream == VehicleStream(vehicle) {
		return es.AppendResult{}, errors.Join(card.ErrCardNotInUse.Withf("card", "Card %s stopped being the card in use for vehicle %s meanwhile; read it again.", sc.Old, vehicle), err)
	}
	if err != nil {
		return es.AppendResult{}, err
	}
	return last(res), nil
}

// loadForSuccession loads the card a renewal or reissue acts on and checks
// the caller's expected version (If-Match) against it.
func loadForSuccession(ctx context.Context, s EventStreams, n card.CardNumber, expected int64) (*card.Card, int64, error) {
	c := new(card.Card)
	v, err := s.Load(ctx, CardStream(n), c.Apply)
	if err != nil {
		return nil, 0, err
	}
	if err := commands.CheckIfMatch(CardStream(n), expected, v); err != nil {
		return nil, 0, err
	}
	return c, v, nil
}
