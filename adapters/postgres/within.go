package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// AppendWithin runs one decision that writes rows beside the log and
// events into it as ONE transaction: fn gets the transaction, makes its own
// writes (a usage file's records, say) and returns the appends that record
// them, with their metadata; those are appended in the same transaction (as AppendMany: one
// gantry_append per stream, each stream's command record ID@stream), and
// everything commits together or not at all.
//
//   - fn's error, an append's *es.WrongVersionError, or a failed commit roll
//     back fn's writes too; nothing is left behind.
//   - When md.CommandID was appended before (a retried command), the append
//     answers the first results with Duplicate set and fn's writes are
//     rolled back: a retry adds nothing.
//   - fn must not commit or roll back tx, and must not keep it.
//
// It is not part of the es.Store port: only a store that shares its
// database with the side writes can offer it (commands.AppendWithin is how
// commands reach it).
func (s *Store) AppendWithin(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) (es.Metadata, []es.StreamAppend, error)) ([]es.AppendResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback(ctx)
	md, appends, err := fn(ctx, tx)
	if err != nil {
		return nil, err
	}
	meta, err := metadataJSON(md)
	if err != nil {
		return nil, err
	}
	if len(appends) == 0 {
		return nil, errors.New("eventstore: AppendWithin: the side writes must be recorded by at least one event")
	}
	for _, a := range appends {
		if err := es.CheckSizes(a.Stream, a.Events, s.maxEvent); err != nil {
			return nil, err
		}
	}
	out, err := s.appendInTx(ctx, tx, md, meta, appends)
	if err != nil {
		return nil, err
	}
	for _, r := range out {
		if r.Duplicate {
			// Recorded before: keep nothing of this run (a failed
			// rollback commits nothing either).
			_ = tx.Rollback(ctx)
			return out, nil
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, translate(err)
	}
	s.wake()
	return out, nil
}

// AppendManyInTx implements eventstore.TxAppender on AppendWithin: write
// runs in the append's transaction, so the rows it writes commit with the
// events or not at all (a wrong version, a failed write or a re-sent
// command keeps none of them).
func (s *Store) AppendManyInTx(ctx context.Context, md es.Metadata, write es.TxWrite, appends ...es.StreamAppend) ([]es.AppendResult, error) {
	return s.AppendWithin(ctx, func(ctx context.Context, tx pgx.Tx) (es.Metadata, []es.StreamAppend, error) {
		if write != nil {
			if err := write(ctx, pgxExec{tx}); err != nil {
				return es.Metadata{}, nil, err
			}
		}
		return md, appends, nil
	})
}

// pgxExec runs a TxWrite's statements on the append's transaction.
type pgxExec struct{ tx pgx.Tx }

func (e pgxExec) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := e.tx.Exec(ctx, sql, args...)
	return err
}
