package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// SequencerName is the sequencer's durable projector name (its checkpoint
// key). Renaming it would append every event to the log a second time. It is
// never rebuilt: the log is append-only.
const SequencerName = "tlog"

// Sequencer is the projector that appends each committed event, in global
// order, as the next entry of the log, with the tree's new stored hashes, in
// the transaction that moves its checkpoint: exactly once, in order.
//
// NewSequencer's keeps the tree's frontier (the roots of its perfect
// subtrees, all a new entry's hashes depend on) in memory between batches,
// so a batch reads no stored hash; the zero value reads the frontier from
// the database for every batch.
type Sequencer struct {
	front *frontierCache
}

// NewSequencer returns a sequencer with a frontier cache.
func NewSequencer() Sequencer { return Sequencer{front: &frontierCache{}} }

// Name is SequencerName.
func (Sequencer) Name() string { return SequencerName }

// Setup does nothing: the log's tables come from migration 03500 and live in
// the public schema, outside any rebuild.
func (Sequencer) Setup(context.Context, pgx.Tx) error { return nil }

// RawEvents: the sequencer needs the stored events only, never their
// decoded data (an entry commits to the stored bytes), so the runtime does
// not decode them.
func (Sequencer) RawEvents() {}

// Apply appends evs to the log.
func (s Sequencer) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	recs := make([]es.RecordedEvent, len(evs))
	for i, e := range evs {
		recs[i] = e.RecordedEvent
	}
	return appendCached(ctx, tx, recs, s.front)
}

// frontierCache is the frontier of the tree as the last batch left it,
// with the stored hashes of its last entry to tell that the database still
// holds that tree (a rolled-back batch, or another process's, leaves a
// different last entry and the frontier is read again).
type frontierCache struct {
	mu     sync.Mutex
	size   int64
	last   []byte
	hashes map[int64]tlog.Hash
}

// frontierIndexes are the stored-hash indexes of the roots of the perfect
// subtrees that make up a tree of n entries, largest first: all that
// tlog.StoredHashes needs to append entry n.
func frontierIndexes(n int64) []int64 {
	var out []int64
	for level := 62; level >= 0; level-- {
		if n>>uint(level)&1 == 1 {
			out = append(out, tlog.StoredHashIndex(level, n>>uint(level)-1))
		}
	}
	return out
}

// frontierHashes is a tlog.HashReader over a map; a missing hash is an error.
type frontierHashes map[int64]tlog.Hash

var errNotInFrontier = errors.New("tlog: stored hash not in the frontier")

func (m frontierHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("%w: %d", errNotInFrontier, x)
		}
		out[i] = h
	}
	return out, nil
}

// Append appends recs, which must follow the log's last entry in global
// order, as entries, each with the stored hashes it completes, in tx.
func Append(ctx context.Context, tx pgx.Tx, recs []es.RecordedEvent) error {
	return appendCached(ctx, tx, recs, nil)
}

// lastEntry returns the size of the stored log and its last entry's stored
// hashes (nil when empty).
func lastEntry(ctx context.Context, q querier) (int64, []byte, error) {
	var (
		idx    int64
		hashes []byte
	)
	err := q.QueryRow(ctx, `SELECT idx, hashes FROM tlog_entries ORDER BY idx DESC LIMIT 1`).Scan(&idx, &hashes)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return idx + 1, hashes, nil
}

// appendCached is Append with the frontier taken from c when it describes
// the stored tree (c may be nil), and left in c afterwards.
func appendCached(ctx context.Context, tx pgx.Tx, recs []es.RecordedEvent, c *frontierCache) error {
	if len(recs) == 0 {
		return nil
	}
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	n, last, err := lastEntry(ctx, tx)
	if err != nil {
		return err
	}
	known := frontierHashes{}
	if c != nil && c.hashes != nil && c.size == n && bytes.Equal(c.last, last) {
		for k, h := range c.hashes {
			known[k] = h
		}
	} else if n > 0 {
		idx := frontierIndexes(n)
		hs, err := readHashes(ctx, tx, idx)
		if err != nil {
			return err
		}
		for k, x := range idx {
			known[x] = hs[k]
		}
	}
	rows := make([][]any, 0, len(recs))
	var hashes []byte
	for _, rec := range recs {
		data, err := EntryOf(rec).Marshal()
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashes(n, data, known)
		if err != nil {
			return fmt.Errorf("tlog: hashing entry %d (%s@%d): %w", n, rec.StreamID, rec.Version, err)
		}
		base := tlog.StoredHashCount(n)
		hashes = make([]byte, 0, len(hs)*tlog.HashSize)
		for k, h := range hs {
			known[base+int64(k)] = h
			hashes = append(hashes, h[:]...)
		}
		rows = append(rows, []any{n, rec.StreamID, rec.Version, data, hashes})
		n++
		// Keep only what the next entries can need: the frontier.
		if len(known) > 4*64 {
			known = keepFrontier(known, n)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"public", "tlog_entries"}, []string{"idx", "stream_id", "version", "entry", "hashes"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("tlog: writing entries: %w", err)
	}
	if c != nil {
		c.size, c.last, c.hashes = n, hashes, keepFrontier(known, n)
	}
	return nil
}

// keepFrontier returns the hashes of m that are on the frontier of a tree
// of n entries.
func keepFrontier(m frontierHashes, n int64) frontierHashes {
	out := frontierHashes{}
	for _, x := range frontierIndexes(n) {
		if h, ok := m[x]; ok {
			out[x] = h
		}
	}
	return out
}
