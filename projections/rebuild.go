package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// Rebuild rebuilds p from the start of the log into fresh tables (schema
// proj_<name>__next) while the live tables keep serving queries and the live
// projector keeps running, then swaps them in atomically:
//
//  1. replay the whole log into __next, batch by batch;
//  2. in one transaction holding the checkpoint row (the live projector
//     waits on it): catch up the last events, rename the live schema away,
//     rename __next to the live name, drop the old one, and store the new
//     checkpoint with a bumped generation.
//
// The live projector then sees its checkpoint moved and carries on from it; a
// projector that had stopped on a failure restarts. progress, if not nil, is
// called after each batch with the number of events applied so far (of the
// projector's types: see ToReplay for the total).
//
// Each batch is its own transaction on the __next tables, which nobody
// reads: cancelling ctx (Ctrl-C) rolls back the batch in flight and leaves
// the live tables and checkpoint untouched; the next rebuild starts over.
//
// One rebuild per projector at a time, across processes: a rebuild holds a
// PostgreSQL session advisory lock named after the projector for its whole
// run (released when it returns, or when its connection dies), because two
// rebuilds would share and clobber proj_<name>__next. A second rebuild
// fails at once with *RebuildRunningError; nothing of the first is touched.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, src Source, codec *es.Codec, p Projector, progress func(n int64)) (es.Position, error) {
	lock, err := pool.Acquire(ctx)
	if err != nil {
		return es.Position{}, err
	}
	defer lock.Release()
	var got bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('gantry projection rebuild ' || $1, 0))`, p.Name()).Scan(&got); err != nil {
		return es.Position{}, err
	}
	if !got {
		return es.Position{}, &RebuildRunningError{Projector: p.Name()}
	}
	defer lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('gantry projection rebuild ' || $1, 0))`, p.Name())
	return rebuild(ctx, pool, src, codec, p, progress)
}

// RebuildRunningError: another rebuild of the projector is running (in this
// or another process); wait for it to finish instead of starting a second.
type RebuildRunningError struct{ Projector string }

func (e *RebuildRunningError) Error() string {
	return fmt.Sprintf("projections: a rebuild of %s is already running (it replays into %s); wait for it to finish", e.Projector, Schema(e.Projector)+"__next")
}

func rebuild(ctx context.Context, pool *pgxpool.Pool, src Source, codec *es.Codec, p Projector, progress func(n int64)) (es.Position, error) {
	live := Schema(p.Name())
	next := live + "__next"
	old := live + "__old"
	ident := func(s string) string { return pgx.Identifier{s}.Sanitize() }

	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING`, p.Name()); err != nil {
		return es.Position{}, err
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+ident(next)+` CASCADE`); err != nil {
			return err
		}
		return setupIn(ctx, tx, p, next)
	})
	if err != nil {
		return es.Position{}, fmt.Errorf("rebuild %s: setup: %w", p.Name(), err)
	}
	types, want := wanted(p)
	var n int64 // events applied (of the projector's types)
	apply := func(tx pgx.Tx, evs []es.Event) error {
		if len(evs) == 0 {
			return nil
		}
		if err := p.Apply(ctx, tx, evs); err != nil {
			return err
		}
		n += int64(len(evs))
		return nil
	}
	// Batches are read and decoded one ahead: PostgreSQL reads the next
	// batch and this process decodes it while PostgreSQL writes the
	// current one. Each batch's data keys are still read for that batch
	// alone, when it is decoded.
	type read struct {
		batch []es.RecordedEvent
		evs   []es.Event
		err   error
	}
	fetch := func(from es.Position) <-chan read {
		ch := make(chan read, 1)
		go func() {
			b, err := src.ReadAllTypes(ctx, from, 5000, types)
			var evs []es.Event
			if err == nil && len(b) > 0 {
				evs, err = decodeWanted(ctx, codec, p, b, want)
			}
			ch <- read{b, evs, err}
		}()
		return ch
	}
	pos := es.Start
	pending := fetch(pos)
	for {
		r := <-pending
		batch, err := r.batch, r.err
		if err != nil {
			return pos, fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		if len(batch) == 0 {
			break
		}
		pending = fetch(batch[len(batch)-1].Position)
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+ident(next)+`, public`); err != nil {
				return err
			}
			return apply(tx, r.evs)
		})
		if err != nil {
			<-pending // let the read ahead end before returning
			return pos, fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		pos = batch[len(batch)-1].Position
		if progress != nil {
			progress(n)
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, p.Name()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+ident(next)+`, public`); err != nil {
			return err
		}
		for {
			batch, err := src.ReadAllTypes(ctx, pos, 5000, types)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			evs, err := decodeWanted(ctx, codec, p, batch, want)
			if err != nil {
				return err
			}
			if err := apply(tx, evs); err != nil {
				return err
			}
			pos = batch[len(batch)-1].Position
		}
		for _, q := range []string{
			`DROP SCHEMA IF EXISTS ` + ident(old) + ` CASCADE`,
			`CREATE SCHEMA IF NOT EXISTS ` + ident(live), // a projector that never ran
			`ALTER SCHEMA ` + ident(live) + ` RENAME TO ` + ident(old),
			`ALTER SCHEMA ` + ident(next) + ` RENAME TO ` + ident(live),
			`DROP SCHEMA ` + ident(old) + ` CASCADE`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET commit_pos = $2, prepare_pos = $3,
generation = generation + 1, status = 'running', error = NULL, updated_at = now() WHERE name = $1`,
			p.Name(), int64(pos.Commit), int64(pos.Prepare))
		return err
	})
	if err != nil {
		return pos, fmt.Errorf("rebuild %s: swap: %w", p.Name(), err)
	}
	if progress != nil {
		progress(n)
	}
	return pos, nil
}

// StoredStatus reads the checkpoints table (for `gantry projections status`
// from another process) with each projector's lag.
func StoredStatus(ctx context.Context, pool *pgxpool.Pool, src Source) ([]Status, error) {
	rows, err := pool.Query(ctx, `SELECT name, commit_pos, prepare_pos, status, coalesce(error, '') FROM projection_checkpoints ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var out []Status
	for rows.Next() {
		var (
			s     Status
			c, pr int64
		)
		if err := rows.Scan(&s.Name, &c, &pr, &s.State, &s.Error); err != nil {
			return nil, err
		}
		s.Position = es.Position{Commit: uint64(c), Prepare: uint64(pr)}
		s.Checkpoint = s.Position.String()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		n, first, err := src.Behind(ctx, out[i].Position, 1_000_000)
		if err != nil {
			return nil, err
		}
		out[i].LagEvents = n
		if n > 0 {
			out[i].LagSeconds = time.Since(first).Seconds()
		}
	}
	return out, nil
}

// ToReplay counts the events a rebuild of p applies: those of its types
// (every event for a projector that is not Selective).
func ToReplay(ctx context.Context, pool *pgxpool.Pool, p Projector) (int64, error) {
	types, _ := wanted(p)
	var n int64
	var err error
	if types == nil {
		err = pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	} else {
		err = pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = ANY($1)`, types).Scan(&n)
	}
	return n, err
}
