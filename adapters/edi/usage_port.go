package edi

import (
	"io"

	"github.com/gantry-etc/gantry/domain/billing"
)

// UsageReader is the streaming usage-file reader of the card commands
// (cards.UsageReader): ReadUsage with DefaultChunkRows records per chunk, a
// rejected file reported as a *cards.UsageFileError (every bad line,
// nothing handed over after the first).
type UsageReader struct {
	// ChunkRows is the records per chunk (DefaultChunkRows when zero).
	ChunkRows int
}

// ReadUsage streams r; see the package function ReadUsage.
func (u UsageReader) ReadUsage(r io.Reader, each func(chunk []billing.UsageRecord) error) (string, int, error) {
	read, err := ReadUsage(r, u.ChunkRows, each)
	return read.Encoding, read.Rows, err
}
