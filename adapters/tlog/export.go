package tlog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/gantry-etc/gantry/domain"
)

// StreamKinds are the stream-name prefixes ("<kind>-<id>") a subject's own
// streams have; a subject export also takes every event that seals a value
// for the subject.
var streamKinds = []string{"application", "consent", "setup", "certificate", "contract", "card", "invoice"}

// ErrNoCheckpoint: nothing has been signed yet, so nothing can be proven.
var ErrNoCheckpoint = &domain.Error{Kind: domain.KindConflict, Code: "no_checkpoint", Detail: "The log has not signed a checkpoint yet; try again in a second."}

// Exporter writes audit-export bundles (docs/audit-export.md).
type Exporter struct {
	Pool        *pgxpool.Pool
	VerifierKey string
	// Progress, when set, is told how far through the checkpoint's tree
	// the export has got (entries scanned of total), after each exported
	// event and at the end.
	Progress func(scanned, total int64)
}

// ExportSummary is what an export wrote.
type ExportSummary struct {
	Checkpoint Checkpoint
	Events     int64
}

// Export streams a bundle of the events q selects to w: the newest signed
// checkpoint, the verifier key, and for each event in the checkpoint's tree
// (in log order) its entry, canonical record and inclusion proof. Nothing
// is held in memory but the tiles the proofs need. An event whose stored
// bytes do not hash to its entry, or a stored tree that does not hash to
// the checkpoint, stops the export with an error: the bundle would not
// verify.
func (x Exporter) Export(ctx context.Context, q ExportQuery, w io.Writer) (ExportSummary, error) {
	cp, ok, err := latestCheckpoint(ctx, x.Pool)
	if err != nil {
		return ExportSummary{}, err
	}
	if !ok {
		return ExportSummary{}, ErrNoCheckpoint
	}
	c, err := OpenCheckpoint(cp.Note, x.VerifierKey)
	if err != nil {
		return ExportSummary{}, fmt.Errorf("tlog: the stored checkpoint does not verify with the log's key: %w", err)
	}
	sum := ExportSummary{Checkpoint: c}
	bw := newBundleWriter(w)
	if err := bw.file(fileCheckpoint, cp.Note); err != nil {
		return sum, err
	}
	if err := bw.file(fileKey, []byte(x.VerifierKey+"\n")); err != nil {
		return sum, err
	}
	if err := bw.json(fileQuery, BundleHeader{Format: BundleFormat, Query: q, Origin: c.Origin, TreeSize: c.Size, Redaction: Redaction}); err != nil {
		return sum, err
	}
	hashes := &hashCache{ctx: ctx, pool: x.Pool, cache: map[int64]tlog.Hash{}}
	if root, err := tlog.TreeHash(c.Size, hashes); err != nil || root != c.Root {
		return sum, fmt.Errorf("tlog: the stored tree does not hash to the signed checkpoint of %d entries (run gantry verify): %v", c.Size, err)
	}
	err = x.each(ctx, c.Size, q, func(idx int64, entry []byte, canonical []byte, rec BundleRecord) error {
		e, err := ParseEntry(entry)
		if err != nil {
			return fmt.Errorf("tlog: stored entry %d: %w", idx, err)
		}
		if sha256.Sum256(canonical) != e.CanonicalHash {
			return fmt.Errorf("tlog: event %s no longer hashes to its log entry %d: the events table was altered (run gantry verify)", e.Place(), idx)
		}
		proof, err := tlog.ProveRecord(c.Size, idx, hashes)
		if err != nil {
			return fmt.Errorf("tlog: inclusion proof of entry %d: %w", idx, err)
		}
		// The stored hashes are read unverified; checking each proof
		// (a few hashes) catches a stored hash that was altered.
		if err := tlog.CheckRecord(proof, c.Size, c.Root, idx, tlog.RecordHash(entry)); err != nil {
			return fmt.Errorf("tlog: the stored tree's proof of entry %d does not check (run gantry verify): %w", idx, err)
		}
		sum.Events++
		ev := BundleEvent{Index: idx, Entry: entry, Proof: proofBytes(proof), Record: rec}
		if !rebuildable(rec.Data) || !rebuildable(rec.Metadata) {
			ev.Canonical = canonical
		} else if again, err := canonicalOfRecord(rec); err != nil || !bytes.Equal(again, canonical) {
			ev.Canonical = canonical
		}
		if x.Progress != nil {
			x.Progress(idx+1, c.Size)
		}
		return bw.json(eventFileName(idx), ev)
	})
	if err != nil {
		return sum, err
	}
	if x.Progress != nil {
		x.Progress(c.Size, c.Size)
	}
	if err := bw.json(fileEnd, BundleEnd{Events: sum.Events}); err != nil {
		return sum, err
	}
	return sum, bw.close()
}

// ExportFile writes the bundle to a temporary file beside path and renames
// it to path only once complete and synced: an interrupted (Ctrl-C: ctx
// cancelled) or failed export leaves no half-written bundle, and a file
// already at path is not touched.
func (x Exporter) ExportFile(ctx context.Context, q ExportQuery, path string) (ExportSummary, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return ExportSummary{}, err
	}
	defer os.Remove(f.Name()) // after the rename there is nothing left to remove
	bw := bufio.NewWriterSize(f, 1<<20)
	sum, err := x.Export(ctx, q, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return sum, err
	}
	return sum, os.Rename(f.Name(), path)
}

func (x Exporter) each(ctx context.Context, size int64, q ExportQuery, fn func(idx int64, entry, canonical []byte, rec BundleRecord) error) error {
	var subjectStreams []string
	needle := ""
	if q.Subject != "" {
		for _, k := range streamKinds {
			subjectStreams = append(subjectStreams, k+"-"+q.Subject)
		}
		needle = `"subject":"` + strings.ReplaceAll(q.Subject, `"`, `\"`) + `"`
	}
	var from, to any
	if !q.From.IsZero() {
		from = q.From
	}
	if !q.To.IsZero() {
		to = q.To
	}
	rows, err := x.Pool.Query(ctx, `SELECT t.idx, t.entry, `+eventColumns+`
  FROM tlog_entries t JOIN events e ON e.stream_id = t.stream_id AND e.version = t.version
 WHERE t.idx < $1
   AND ($2 = '' OR e.stream_id = ANY($3) OR strpos(e.data::text, $4) > 0)
   AND ($5 = '' OR e.metadata->'actor'->>'store' = $5 OR e.data->>'store_id' = $5)
   AND ($6::timestamptz IS NULL OR e.recorded_at >= $6)
   AND ($7::timestamptz IS NULL OR e.recorded_at < $7)
 ORDER BY t.idx`, size, q.Subject, subjectStreams, needle, q.Store, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			idx   int64
			entry []byte
		)
		e, err := scanEvent(rows, &idx, &entry)
		if err != nil {
			return err
		}
		if err := fn(idx, entry, canonicalOf(e), recordOf(e)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// hashCache is a tlog.HashReader over the stored hashes that, on a miss,
// reads the hashes of a whole run of entries after it (proofs of
// consecutive entries need neighbouring stored hashes), so an export costs
// few queries. It does not verify: the exporter checks every proof.
type hashCache struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	cache map[int64]tlog.Hash
}

const hashRun = 8192

func (h *hashCache) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		v, ok := h.cache[x]
		if !ok {
			if len(h.cache) > 4_000_000 {
				clear(h.cache)
			}
			e, _ := storedAt(x)
			rows, err := h.pool.Query(h.ctx, `SELECT idx, hashes FROM tlog_entries WHERE idx >= $1 AND idx < $2`, max(0, e-hashRun/16), e+hashRun)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var (
					j int64
					b []byte
				)
				if err := rows.Scan(&j, &b); err != nil {
					rows.Close()
					return nil, err
				}
				for k := 0; (k+1)*tlog.HashSize <= len(b); k++ {
					hh, _ := hashOf(b, k)
					h.cache[tlog.StoredHashIndex(k, j>>uint(k))] = hh
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			if v, ok = h.cache[x]; !ok {
				return nil, fmt.Errorf("tlog: stored hash %d is missing", x)
			}
		}
		out[i] = v
	}
	return out, nil
}
