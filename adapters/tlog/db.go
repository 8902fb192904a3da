package tlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/gantry-etc/gantry/domain"
)

// TileHeight is the height of the served tiles (C2SP tlog-tiles: 8, so a
// full tile holds 256 hashes or entries).
const TileHeight = 8

// TileWidth is a full tile's width.
const TileWidth = 1 << TileHeight

// querier is what both a pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrNotFound: the tile or checkpoint does not exist (yet).
var ErrNotFound = &domain.Error{Kind: domain.KindNotFound, Code: "log_not_that_large", Detail: "The log has no checkpoint yet, or is not that large yet: it signs a checkpoint within a second of an event."}

// ErrBadTilePath: not a C2SP tile path.
var ErrBadTilePath = &domain.Error{Kind: domain.KindNotFound, Code: "bad_tile_path", Detail: "Not a C2SP tile path: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], with N in x001/234/067 form."}

// treeSize returns how many entries the stored log holds.
func treeSize(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT coalesce(max(idx) + 1, 0) FROM tlog_entries`).Scan(&n)
	return n, err
}

// storedAt says where stored hash x is kept: the entry that completed it
// and its place in that entry's hashes.
func storedAt(x int64) (entry int64, k int) {
	level, n := tlog.SplitStoredHashIndex(x)
	return (n+1)<<uint(level) - 1, level
}

// hashOf returns stored hash k of an entry's hashes column.
func hashOf(hashes []byte, k int) (tlog.Hash, bool) {
	var h tlog.Hash
	if len(hashes) < (k+1)*tlog.HashSize {
		return h, false
	}
	copy(h[:], hashes[k*tlog.HashSize:])
	return h, true
}

// readHashes reads stored hashes by index, in the order asked.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	entries := make([]int64, len(indexes))
	for i, x := range indexes {
		entries[i], _ = storedAt(x)
	}
	rows, err := q.Query(ctx, `SELECT idx, hashes FROM tlog_entries WHERE idx = ANY($1)`, entries)
	if err != nil {
		return nil, err
	}
	got := make(map[int64][]byte, len(indexes))
	for rows.Next() {
		var (
			i int64
			h []byte
		)
		if err := rows.Scan(&i, &h); err != nil {
			return nil, err
		}
		got[i] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for j, x := range indexes {
		e, k := storedAt(x)
		h, ok := hashOf(got[e], k)
		if !ok {
			return nil, fmt.Errorf("tlog: stored hash %d (entry %d) is missing", x, e)
		}
		out[j] = h
	}
	return out, nil
}

// dbHashes is a tlog.HashReader over the stored hashes with a memory cache.
type dbHashes struct {
	ctx   context.Context
	q     querier
	cache map[int64]tlog.Hash
}

func newDBHashes(ctx context.Context, q querier) *dbHashes {
	return &dbHashes{ctx: ctx, q: q, cache: map[int64]tlog.Hash{}}
}

func (r *dbHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	for _, i := range indexes {
		if _, ok := r.cache[i]; !ok {
			miss = append(miss, i)
		}
	}
	if len(miss) > 0 {
		hs, err := readHashes(r.ctx, r.q, miss)
		if err != nil {
			return nil, err
		}
		for k, i := range miss {
			r.cache[i] = hs[k]
		}
	}
	for k, i := range indexes {
		out[k] = r.cache[i]
	}
	return out, nil
}

// storedCheckpoint is a row of tlog_checkpoints.
type storedCheckpoint struct {
	Checkpoint Checkpoint
	Note       []byte
}

// latestCheckpoint returns the largest signed checkpoint, or ok false.
func latestCheckpoint(ctx context.Context, q querier) (storedCheckpoint, bool, error) {
	var note string
	err := q.QueryRow(ctx, `SELECT note FROM tlog_checkpoints ORDER BY tree_size DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		return storedCheckpoint{}, false, nil
	}
	if err != nil {
		return storedCheckpoint{}, false, err
	}
	c, err := checkpointOfNote([]byte(note))
	if err != nil {
		return storedCheckpoint{}, false, err
	}
	return storedCheckpoint{Checkpoint: c, Note: []byte(note)}, true, nil
}

// checkpointOfNote parses a signed note's checkpoint without checking the
// signature (for notes this log wrote itself and keeps).
func checkpointOfNote(msg []byte) (Checkpoint, error) {
	text, _, ok := cutNote(msg)
	if !ok {
		return Checkpoint{}, ErrMalformedCheckpoint
	}
	return ParseCheckpoint(text)
}

// cutNote splits a signed note at its blank line.
func cutNote(msg []byte) (text string, sigs string, ok bool) {
	s := string(msg)
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\n' && s[i+1] == '\n' {
			return s[:i+1], s[i+2:], true
		}
	}
	return "", "", false
}
