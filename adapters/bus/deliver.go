package bus

import (
	"context"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

func (b *Bus) publish(ctx context.Context, tx pgx.Tx, evs []es.Event) error { return nil }

func (b *Bus) run(ctx context.Context) error { <-ctx.Done(); return nil }
