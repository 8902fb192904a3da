package cards

import (
	"context"
	"errors"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain/card"
)

// forEachDueCard runs a scheduled job over the cards the view named: each
// card is loaded from its stream, decide says what to append (no parts:
// skip), and the parts are appended in one transaction. A card that changed
// meanwhile (wrong expected version) is left for the next run. It returns
// how many cards recorded something.
func forEachDueCard(ctx context.Context, streams EventStreams, due []card.CardNumber,
	decide func(c *card.Card, version int64) ([]commands.StreamEvents, error)) (int, error) {
	n := 0
	for _, num := range due {
		var c card.Card
		v, err := streams.Load(ctx, CardStream(num), c.Apply)
		if err != nil {
			return n, err
		}
		parts, err := decide(&c, v)
		if err != nil {
			return n, err
		}
		if len(parts) == 0 {
			continue
		}
		if _, err := streams.AppendMany(ctx, parts...); err != nil {
			if errors.Is(err, es.ErrWrongExpectedVersion) {
				continue // changed meanwhile; the next run looks again
			}
			return n, err
		}
		n++
	}
	return n, nil
}
