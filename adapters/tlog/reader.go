package tlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"
)

// Reader serves the log's checkpoint, tiles and entry bundles from the
// database (for api/logapi). Safe for concurrent use.
type Reader struct {
	Pool        *pgxpool.Pool
	VerifierKey string
}

// Checkpoint returns the newest signed checkpoint note, or ErrNotFound
// before the first one.
func (r Reader) Checkpoint(ctx context.Context) ([]byte, error) {
	c, ok, err := latestCheckpoint(ctx, r.Pool)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return c.Note, nil
}

// TilePath is a parsed C2SP tile path: tile/<L>/<N>[.p/<W>] (Level ≥ 0) or
// tile/entries/<N>[.p/<W>] (Level -1).
type TilePath = tlog.Tile

// ParseTilePath parses a C2SP tlog-tiles path (after the log's prefix),
// e.g. "tile/0/x001/234.p/17" or "tile/entries/000". It uses x/mod's parser
// (whose paths carry the tile height) so the N encoding is the same.
func ParseTilePath(p string) (TilePath, error) {
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return TilePath{}, fmt.Errorf("tlog: %q is not a tile path", p)
	}
	level, tail, ok := strings.Cut(rest, "/")
	if !ok {
		return TilePath{}, fmt.Errorf("tlog: %q is not a tile path", p)
	}
	if level == "entries" {
		level = "data"
	}
	t, err := tlog.ParseTilePath(fmt.Sprintf("tile/%d/%s/%s", TileHeight, level, tail))
	if err != nil {
		return TilePath{}, fmt.Errorf("tlog: %q is not a tile path", p)
	}
	return t, nil
}

// Tile returns the tile at a C2SP path (after the log's prefix); a bad
// path is ErrBadTilePath.
func (r Reader) Tile(ctx context.Context, path string) ([]byte, error) {
	t, err := ParseTilePath(path)
	if err != nil {
		return nil, ErrBadTilePath
	}
	return r.tile(ctx, t)
}

// FormatTilePath is the C2SP path of a tile.
func FormatTilePath(t TilePath) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", TileHeight))
	if t.L == -1 {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

// tile returns a hash tile (t.L ≥ 0) or an entry bundle (t.L == -1) of the
// stored tree, or ErrNotFound when the tree is not yet that large. A tile's
// bytes depend only on entries before its end, so every tile served is the
// one of any checkpoint at least that large.
func (r Reader) tile(ctx context.Context, t TilePath) ([]byte, error) {
	if t.L < -1 || t.W < 1 || t.W > TileWidth {
		return nil, ErrBadTilePath
	}
	n, err := treeSize(ctx, r.Pool)
	if err != nil {
		return nil, err
	}
	if t.L == -1 {
		start := t.N * TileWidth
		if start+int64(t.W) > n {
			return nil, ErrNotFound
		}
		return r.entryBundle(ctx, start, t.W)
	}
	// The tile's last hash at its level needs this many entries.
	need := (t.N*TileWidth + int64(t.W)) << (uint(t.L) * TileHeight)
	if need > n {
		return nil, ErrNotFound
	}
	return tlog.ReadTileData(t, newDBHashes(ctx, r.Pool))
}

// entryBundle is entries [start, start+w), each as a big-endian uint16
// length and the entry.
func (r Reader) entryBundle(ctx context.Context, start int64, w int) ([]byte, error) {
	rows, err := r.Pool.Query(ctx, `SELECT idx, entry FROM tlog_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`, start, start+int64(w))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []byte
	want := start
	for rows.Next() {
		var (
			i int64
			e []byte
		)
		if err := rows.Scan(&i, &e); err != nil {
			return nil, err
		}
		if i != want {
			return nil, fmt.Errorf("tlog: entry %d is missing from the stored log", want)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
		want++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if want != start+int64(w) {
		return nil, fmt.Errorf("tlog: entry %d is missing from the stored log", want)
	}
	return out, nil
}
