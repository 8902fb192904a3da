package tlog

import (
	"context"
	"fmt"

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
type Sequencer struct{}

// Name is SequencerName.
func (Sequencer) Name() string { return SequencerName }

// Setup does nothing: the log's tables come from migration 03500 and live in
// the public schema, outside any rebuild.
func (Sequencer) Setup(context.Context, pgx.Tx) error { return nil }

// Apply appends evs to the log.
func (Sequencer) Apply(ctx context.Context, tx pgx.Tx, evs []es.Event) error {
	recs := make([]es.RecordedEvent, len(evs))
	for i, e := range evs {
		recs[i] = e.RecordedEvent
	}
	return Append(ctx, tx, recs)
}

// pending is a HashReader over the hashes written by this batch, falling
// back to the stored ones.
type pending struct {
	db  *dbHashes
	new map[int64]tlog.Hash
}

func (p *pending) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	for _, i := range indexes {
		if _, ok := p.new[i]; !ok {
			miss = append(miss, i)
		}
	}
	var old []tlog.Hash
	if len(miss) > 0 {
		var err error
		if old, err = p.db.ReadHashes(miss); err != nil {
			return nil, err
		}
	}
	k := 0
	for j, i := range indexes {
		if h, ok := p.new[i]; ok {
			out[j] = h
		} else {
			out[j] = old[k]
			k++
		}
	}
	return out, nil
}

// Append appends recs, which must follow the log's last entry in global
// order, as entries, each with the stored hashes it completes, in tx.
func Append(ctx context.Context, tx pgx.Tx, recs []es.RecordedEvent) error {
	if len(recs) == 0 {
		return nil
	}
	n, err := treeSize(ctx, tx)
	if err != nil {
		return err
	}
	r := &pending{db: newDBHashes(ctx, tx), new: map[int64]tlog.Hash{}}
	rows := make([][]any, 0, len(recs))
	for _, rec := range recs {
		data, err := EntryOf(rec).Marshal()
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashes(n, data, r)
		if err != nil {
			return fmt.Errorf("tlog: hashing entry %d (%s@%d): %w", n, rec.StreamID, rec.Version, err)
		}
		base := tlog.StoredHashCount(n)
		hashes := make([]byte, 0, len(hs)*tlog.HashSize)
		for k, h := range hs {
			r.new[base+int64(k)] = h
			hashes = append(hashes, h[:]...)
		}
		rows = append(rows, []any{n, rec.StreamID, rec.Version, data, hashes})
		n++
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"public", "tlog_entries"}, []string{"idx", "stream_id", "version", "entry", "hashes"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("tlog: writing entries: %w", err)
	}
	return nil
}
