package tlog

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// HTTPTiles reads hash tiles from a C2SP tlog-tiles log at URL (the prefix,
// e.g. https://gantry.example/v1/log), for tlog.TileHashReader, which checks
// each tile against a signed tree before using it.
type HTTPTiles struct {
	URL    string
	Client *http.Client
}

func (h *HTTPTiles) Height() int { return TileHeight }

func (h *HTTPTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		u := strings.TrimSuffix(h.URL, "/") + "/" + FormatTilePath(t)
		resp, err := c.Get(u)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		out[i] = b
	}
	return out, nil
}

func (h *HTTPTiles) SaveTiles([]tlog.Tile, [][]byte) {}
