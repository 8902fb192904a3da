package cards

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
)

// appendSuccession appends a renewal or reissue: first the registry moves
// the vehicle's in-use card from old to new (which serialises concurrent
// successions of one card), then NewEvents start the new card's stream and
// OldEvents go to the old card's stream at the version loaded. When the new
// stream already exists (a retry after a crash between the two appends),
// only OldEvents are appended.
func appendSuccession(ctx context.Context, s commands.Streams, inUse InUse, sc card.Succession, oldVersion int64, oldState card.State) (es.AppendResult, error) {
	if err := inUse.Succeed(ctx, sc.Old, sc.New, oldState); err != nil {
		return es.AppendResult{}, err
	}
	undo := func(err error) (es.AppendResult, error) {
		return es.AppendResult{}, errors.Join(err, inUse.Undo(context.WithoutCancel(ctx), sc.Old, sc.New))
	}
	if _, err := s.Append(ctx, CardStream(sc.New), int64(es.NoStream), sc.NewEvents...); err != nil && !errors.Is(err, es.ErrWrongExpectedVersion) {
		return undo(err)
	}
	res, err := s.Append(ctx, CardStream(sc.Old), oldVersion, sc.OldEvents...)
	if err != nil {
		return undo(err)
	}
	return res, nil
}
