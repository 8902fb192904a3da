package projections

import (
	"context"
	"time"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// StateStandby: another process leads this projector; this one mirrors its
// stored checkpoint (so WaitFor works here too) and takes over if the leader
// goes away.
const StateStandby = "standby"

// SetLeadership makes each projector active in exactly one process at a
// time among all runners on the database: a projector runs only while its
// runner holds a PostgreSQL session advisory lock named after it, on a
// connection of its own (outside the pool). Losing that connection (the
// process died, the network broke) releases the lock, and the lock's
// connection is checked every second, so a leader that lost it stops. The
// others try the lock every second: failover takes under 5 s. Exactly-once
// does not rest on the lock: every batch still commits only if the stored
// checkpoint is where the batch started. Call before Run.
func (r *Runner) SetLeadership(on bool) { r.leadership = on }

func lockKey(name string) string { return "gantry projector " + name }

// lead blocks until this runner leads projector name, and returns a context
// that ends when leadership is lost (or ctx ends) and the function that
// gives it up. ok is false when ctx ended first. Meanwhile the projector's
// status mirrors the stored checkpoint.
func (r *Runner) lead(ctx context.Context, name string) (lctx context.Context, release func(), ok bool) {
	cfg := r.pool.Config().ConnConfig.Copy()
	var lastTry time.Time
	for {
		if time.Since(lastTry) >= time.Second {
			lastTry = time.Now()
			lctx, release, ok := TryLead(ctx, cfg, lockKey(name), func(err error) {
				r.log.Warn("projector lost its leadership lock", "projector", name, "err", err)
			})
			if ok {
				r.log.Info("projector leads", "projector", name)
				return lctx, release, true
			}
		}
		r.mirror(ctx, name)
		if !sleep(ctx, 50*time.Millisecond) {
			return nil, nil, false
		}
	}
}

// mirror sets a standby projector's position to its stored checkpoint.
func (r *Runner) mirror(ctx context.Context, name string) {
	var c, p int64
	var status, msg string
	if err := r.pool.QueryRow(ctx, `SELECT commit_pos, prepare_pos, status, coalesce(error, '') FROM projection_checkpoints WHERE name = $1`, name).Scan(&c, &p, &status, &msg); err != nil {
		r.set(name, func(s *Status) { s.State = StateStandby })
		return
	}
	pos := es.Position{Commit: uint64(c), Prepare: uint64(p)}
	moved := false
	r.set(name, func(s *Status) {
		moved = s.Position != pos
		s.State, s.Error, s.Position = StateStandby, "", pos
		if status == "failed" { // stopped in the leader: WaitFor must not hang here
			s.State, s.Error = StateFailed, msg
		}
	})
	if moved {
		r.signal()
	}
}
