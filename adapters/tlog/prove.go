package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

// Prover proves events against the newest signed checkpoint for the
// auditor pages (projections/audit.InclusionProver).
type Prover struct {
	Pool        *pgxpool.Pool
	VerifierKey string
}

// ProveInclusion finds each event's entry in the stored log, computes its
// RFC 6962 inclusion proof in the tree of the newest signed checkpoint
// (whose signature is checked with the log's key) and checks the proof
// against the signed root, after checking that the entry commits to the
// event's stored bytes. An event after the checkpoint's last entry is
// reported as not yet included. A proof that does not check is an error:
// the stored log was altered (gantry verify says where).
//
// The log has no index from event to entry (the sequencer stays lean), so
// the entries are found by a binary search on the entries' global
// positions, all events in step: one query per halving.
func (p Prover) ProveInclusion(ctx context.Context, refs []projaudit.EventRef) (projaudit.ProofStatus, error) {
	st := projaudit.ProofStatus{Events: map[int64]projaudit.EventProof{}}
	var (
		note     string
		signedAt time.Time
	)
	err := p.Pool.QueryRow(ctx, `SELECT note, signed_at FROM tlog_checkpoints ORDER BY tree_size DESC LIMIT 1`).Scan(&note, &signedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		for _, r := range refs {
			st.Events[r.Version] = projaudit.EventProof{}
		}
		return st, nil
	}
	if err != nil {
		return st, err
	}
	c, err := OpenCheckpoint([]byte(note), p.VerifierKey)
	if err != nil {
		return st, fmt.Errorf("tlog: the stored checkpoint does not verify with the log's key: %w", err)
	}
	st.Signed, st.TreeSize, st.SignedAt, st.Root = true, c.Size, signedAt, base64.StdEncoding.EncodeToString(c.Root[:])
	if c.Size == 0 {
		for _, r := range refs {
			st.Events[r.Version] = projaudit.EventProof{}
		}
		return st, nil
	}
	keys, err := p.positions(ctx, []int64{c.Size - 1})
	if err != nil {
		return st, err
	}
	last := keys[c.Size-1]
	// Binary search for every event still in the tree: lo is the first
	// entry whose position is not below the event's.
	type search struct {
		ref    projaudit.EventRef
		key    []byte
		lo, hi int64
	}
	var open []*search
	for _, r := range refs {
		k := positionKey(r.Position)
		if bytes.Compare(k, last) > 0 {
			st.Events[r.Version] = projaudit.EventProof{}
			continue
		}
		open = append(open, &search{ref: r, key: k, lo: 0, hi: c.Size - 1})
	}
	for {
		var mids []int64
		for _, s := range open {
			if s.lo < s.hi {
				mids = append(mids, (s.lo+s.hi)/2)
			}
		}
		if len(mids) == 0 {
			break
		}
		keys, err := p.positions(ctx, mids)
		if err != nil {
			return st, err
		}
		for _, s := range open {
			if s.lo >= s.hi {
				continue
			}
			mid := (s.lo + s.hi) / 2
			if bytes.Compare(keys[mid], s.key) < 0 {
				s.lo = mid + 1
			} else {
				s.hi = mid
			}
		}
	}
	hashes := newDBHashes(ctx, p.Pool)
	for _, s := range open {
		proof, err := p.prove(ctx, c, s.ref, s.lo, hashes)
		if err != nil {
			return st, err
		}
		st.Events[s.ref.Version] = proof
	}
	return st, nil
}

// prove checks that entry idx is the event's and proves it in c's tree.
func (p Prover) prove(ctx context.Context, c Checkpoint, ref projaudit.EventRef, idx int64, hashes tlog.HashReader) (projaudit.EventProof, error) {
	rows, err := p.Pool.Query(ctx, `SELECT t.entry, `+eventColumns+`
  FROM tlog_entries t JOIN events e ON e.stream_id = t.stream_id AND e.version = t.version
 WHERE t.idx = $1`, idx)
	if err != nil {
		return projaudit.EventProof{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return projaudit.EventProof{}, err
		}
		return projaudit.EventProof{}, fmt.Errorf("tlog: entry %d of the signed tree or its event is missing (run gantry verify)", idx)
	}
	var entry []byte
	ev, err := scanEvent(rows, &entry)
	if err != nil {
		return projaudit.EventProof{}, err
	}
	rows.Close()
	e, err := ParseEntry(entry)
	if err != nil {
		return projaudit.EventProof{}, fmt.Errorf("tlog: stored entry %d: %w", idx, err)
	}
	if e.Stream != ref.Stream || e.Version != ref.Version {
		// Entries are in global order: the event's place holds another
		// event, so the event itself is missing from the signed log.
		return projaudit.EventProof{}, fmt.Errorf("tlog: %s version %d is not in the signed log (entry %d holds %s; run gantry verify)", ref.Stream, ref.Version, idx, e.Place())
	}
	if sha256.Sum256(canonicalOf(ev)) != e.CanonicalHash {
		return projaudit.EventProof{}, fmt.Errorf("tlog: event %s no longer hashes to its log entry %d: the events table was altered (run gantry verify)", e.Place(), idx)
	}
	proof, err := tlog.ProveRecord(c.Size, idx, hashes)
	if err != nil {
		return projaudit.EventProof{}, fmt.Errorf("tlog: inclusion proof of entry %d: %w", idx, err)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, idx, tlog.RecordHash(entry)); err != nil {
		return projaudit.EventProof{}, fmt.Errorf("tlog: the proof of entry %d does not check against the signed root (run gantry verify): %w", idx, err)
	}
	return projaudit.EventProof{Included: true, Index: idx, ProofHashes: len(proof)}, nil
}

// positions reads the global positions (as positionKey) of entries.
func (p Prover) positions(ctx context.Context, idx []int64) (map[int64][]byte, error) {
	rows, err := p.Pool.Query(ctx, `SELECT idx, substring(entry from 2 for 16) FROM tlog_entries WHERE idx = ANY($1)`, idx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64][]byte, len(idx))
	for rows.Next() {
		var (
			i int64
			k []byte
		)
		if err := rows.Scan(&i, &k); err != nil {
			return nil, err
		}
		out[i] = k
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, i := range idx {
		if len(out[i]) != 16 {
			return nil, fmt.Errorf("tlog: entry %d of the signed tree is missing (run gantry verify)", i)
		}
	}
	return out, nil
}

// positionKey is a position as an entry stores it (commit ‖ prepare,
// big-endian), so that byte order is log order.
func positionKey(pos es.Position) []byte {
	b := binary.BigEndian.AppendUint64(nil, pos.Commit)
	return binary.BigEndian.AppendUint64(b, pos.Prepare)
}
