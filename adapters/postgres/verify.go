package postgres

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// VerifyResult is the outcome of walking every stream's hash chain.
type VerifyResult struct {
	Checked int64
	Streams int64
	Intact  bool
	Stream  string // first broken link, when not intact
	Version int64
	Problem string
}

func (r VerifyResult) String() string {
	if r.Intact {
		return fmt.Sprintf("intact: %d events in %d streams checked", r.Checked, r.Streams)
	}
	return fmt.Sprintf("BROKEN at stream %q version %d: %s (%d events checked before it)", r.Stream, r.Version, r.Problem, r.Checked)
}

// Verify walks every stream in version order, recomputes each event's hash
// from its stored bytes and the previous hash, and stops at the first link
// that does not match (an edited byte, a missing or reordered version).
func Verify(ctx context.Context, pool *pgxpool.Pool) (VerifyResult, error) {
	rows, err := pool.Query(ctx, selectEvent+`ORDER BY stream_id, version`)
	if err != nil {
		return VerifyResult{}, translate(err)
	}
	defer rows.Close()
	var (
		res  VerifyResult
		prev []byte
		last string
		want int64
	)
	for rows.Next() {
		e, err := scanOne(rows)
		if err != nil {
			return res, err
		}
		if e.StreamID != last {
			last, prev, want = e.StreamID, nil, 1
			res.Streams++
		}
		broken := func(p string) (VerifyResult, error) {
			res.Stream, res.Version, res.Problem = e.StreamID, e.Version, p
			return res, nil
		}
		if e.Version != want {
			return broken(fmt.Sprintf("expected version %d here: an event is missing or out of order", want))
		}
		h := es.ChainHash(prev, es.CanonicalOf(e))
		if !bytes.Equal(h, e.Hash) {
			return broken("stored hash does not match the event's content and its predecessor")
		}
		prev, want = h, want+1
		res.Checked++
	}
	if err := rows.Err(); err != nil {
		return res, translate(err)
	}
	res.Intact = true
	return res, nil
}
