// Package tlogclient is an independent client of a C2SP tlog-tiles log,
// written only against the specifications (C2SP tlog-tiles, tlog-checkpoint,
// signed-note; RFC 6962) and Gantry's published entry layout
// (docs/transparency-log.md). It imports only the standard library and
// golang.org/x/mod/sumdb/{tlog,note} — never Gantry's packages (a test checks
// this) — so that a log it accepts is verifiable without Gantry's code.
package tlogclient

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Client reads a log at URL (its prefix, e.g. http://host/v1/log).
type Client struct {
	URL  string
	HTTP *http.Client
	// Fetched lists the paths fetched, in order (for tests).
	Fetched []string
}

// Checkpoint is a verified checkpoint.
type Checkpoint struct {
	Origin string
	Tree   tlog.Tree
	Note   []byte
}

func (c *Client) get(path string) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	c.Fetched = append(c.Fetched, path)
	resp, err := hc.Get(strings.TrimSuffix(c.URL, "/") + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<22))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// Checkpoint fetches <prefix>/checkpoint and verifies its signature with
// vkey (a note verifier key); the origin line must be the key's name.
func (c *Client) Checkpoint(vkey string) (Checkpoint, error) {
	msg, err := c.get("checkpoint")
	if err != nil {
		return Checkpoint{}, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, err
	}
	// tlog-checkpoint: origin, decimal size, base64 root, then extensions.
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		return Checkpoint{}, errors.New("checkpoint: bad origin line")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return Checkpoint{}, errors.New("checkpoint: bad size")
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return Checkpoint{}, errors.New("checkpoint: bad root")
	}
	cp := Checkpoint{Origin: lines[0], Tree: tlog.Tree{N: size}, Note: msg}
	copy(cp.Tree.Hash[:], h)
	return cp, nil
}

// tilePath is the tlog-tiles path of a tile of height 8: tile/<L>/<N>[.p/<W>]
// or, for entries, tile/entries/<N>[.p/<W>], N in groups of three digits,
// all but the last prefixed with x.
func tilePath(t tlog.Tile) string {
	n := t.N
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + s
	if t.W != 256 {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

type tiles struct{ c *Client }

func (tiles) Height() int { return 8 }
func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		b, err := t.c.get(tilePath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

// Hashes is a HashReader over the log's tiles, each checked against tree.
func (c *Client) Hashes(tree tlog.Tree) tlog.HashReader { return tlog.TileHashReader(tree, tiles{c}) }

// Entries fetches entries [0, n) of a tree of at least n entries from the
// entry bundles (each entry a big-endian uint16 length and the bytes).
func (c *Client) Entries(n int64) ([][]byte, error) {
	var out [][]byte
	for start := int64(0); start < n; start += 256 {
		w := min(256, n-start)
		b, err := c.get(tilePath(tlog.Tile{H: 8, L: -1, N: start / 256, W: int(w)}))
		if err != nil {
			return nil, err
		}
		for len(b) > 0 {
			if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
				return nil, errors.New("entry bundle: truncated")
			}
			l := int(binary.BigEndian.Uint16(b))
			out = append(out, b[2:2+l])
			b = b[2+l:]
		}
		if int64(len(out)) != start+w {
			return nil, fmt.Errorf("entry bundle %d: %d entries, want %d", start/256, int64(len(out))-start, w)
		}
	}
	return out, nil
}

// EntryStream reads the stream and version from an entry (layout version
// 1: u8 1, u64 commit, u64 prepare, u16 length, stream, u64 version, …).
func EntryStream(e []byte) (string, int64, error) {
	if len(e) < 19 || e[0] != 1 {
		return "", 0, errors.New("entry: unknown layout")
	}
	l := int(binary.BigEndian.Uint16(e[17:19]))
	if len(e) < 19+l+8 {
		return "", 0, errors.New("entry: truncated")
	}
	return string(e[19 : 19+l]), int64(binary.BigEndian.Uint64(e[19+l:])), nil
}

// VerifyInclusion proves that entry (the bytes of record index) is in tree.
func (c *Client) VerifyInclusion(tree tlog.Tree, index int64, entry []byte) error {
	proof, err := tlog.ProveRecord(tree.N, index, c.Hashes(tree))
	if err != nil {
		return err
	}
	return tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(entry))
}

// VerifyConsistency proves that older is a prefix of newer.
func (c *Client) VerifyConsistency(older, newer tlog.Tree) error {
	proof, err := tlog.ProveTree(newer.N, older.N, c.Hashes(newer))
	if err != nil {
		return err
	}
	return tlog.CheckTree(proof, newer.N, newer.Hash, older.N, older.Hash)
}
