package tlog

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"
)

// LogResult is the outcome of VerifyLog.
type LogResult struct {
	Intact      bool
	Events      int64 // events rebuilt into entries
	Entries     int64 // entries in the stored log
	Checkpoints int   // signed checkpoints checked
	NewestSize  int64 // size of the largest one
	Index       int64 // first inconsistent entry, when not intact
	Stream      string
	Version     int64
	Problem     string
}

func (r LogResult) String() string {
	if r.Intact {
		s := fmt.Sprintf("log intact: %d events rebuild the %d-entry log exactly; consistent with %d signed checkpoints (largest: %d entries)",
			r.Events, r.Entries, r.Checkpoints, r.NewestSize)
		if r.Events > r.Entries {
			s += fmt.Sprintf("; %d newer events are not sequenced yet", r.Events-r.Entries)
		}
		return s
	}
	place := ""
	if r.Stream != "" {
		place = fmt.Sprintf(" (stream %q version %d)", r.Stream, r.Version)
	}
	return fmt.Sprintf("LOG BROKEN at entry %d%s: %s", r.Index, place, r.Problem)
}

type place struct {
	stream  string
	version int64
}

// memHashes is a tlog.HashReader over hashes held in memory.
type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(*m)) {
			return nil, fmt.Errorf("tlog: hash %d not rebuilt", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

type sourcedCheckpoint struct {
	source string
	c      Checkpoint
}

// VerifyLog rebuilds the log from the events table (every event, in global
// order, as its entry) and checks that it is exactly the stored log (no
// entry missing, added, changed or reordered), that the tree hashes stored
// with each entry are the rebuilt ones, and that the rebuilt tree is consistent with every
// signed checkpoint: those stored in the database and those in files (a
// witness directory), each signature checked with vkey. It reports the first
// inconsistency with its entry, stream and version.
func VerifyLog(ctx context.Context, pool *pgxpool.Pool, vkey string, files []CheckpointFile) (LogResult, error) {
	var res LogResult
	broken := func(i int64, p place, format string, a ...any) (LogResult, error) {
		res.Intact, res.Index, res.Stream, res.Version, res.Problem = false, i, p.stream, p.version, fmt.Sprintf(format, a...)
		return res, nil
	}

	// The signed checkpoints, each signature checked.
	var cps []sourcedCheckpoint
	rows, err := pool.Query(ctx, `SELECT tree_size, note FROM tlog_checkpoints ORDER BY tree_size`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var (
			n    int64
			note string
		)
		if err := rows.Scan(&n, &note); err != nil {
			rows.Close()
			return res, err
		}
		c, err := OpenCheckpoint([]byte(note), vkey)
		if err != nil || c.Size != n {
			rows.Close()
			return broken(n, place{}, "the checkpoint stored for size %d does not verify with the log's key: %v", n, err)
		}
		cps = append(cps, sourcedCheckpoint{fmt.Sprintf("stored checkpoint of size %d", n), c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	for _, f := range files {
		c, err := OpenCheckpoint(f.Note, vkey)
		if err != nil {
			return broken(0, place{}, "checkpoint file %s does not verify with the log's key: %v", f.Path, err)
		}
		cps = append(cps, sourcedCheckpoint{"checkpoint file " + f.Path, c})
	}
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].c.Size < cps[j].c.Size })

	// Rebuild from the events, side by side with the stored entries.
	evRows, err := pool.Query(ctx, `SELECT `+eventColumns+` FROM events e ORDER BY e.transaction_id, e.position`)
	if err != nil {
		return res, err
	}
	defer evRows.Close()
	stRows, err := pool.Query(ctx, `SELECT idx, entry, hashes FROM tlog_entries ORDER BY idx`)
	if err != nil {
		return res, err
	}
	defer stRows.Close()
	var (
		hashes memHashes
		places []place
		i      int64
	)
	haveEv, haveSt := evRows.Next(), stRows.Next()
	for haveEv || haveSt {
		var (
			rebuilt      []byte
			stored       []byte
			storedHashes []byte
			p            place
		)
		if haveEv {
			e, err := scanEvent(evRows)
			if err != nil {
				return res, err
			}
			p = place{e.StreamID, e.Version}
			if rebuilt, err = EntryOf(e).Marshal(); err != nil {
				return res, err
			}
		}
		if haveSt {
			var idx int64
			if err := stRows.Scan(&idx, &stored, &storedHashes); err != nil {
				return res, err
			}
			if idx != i {
				return broken(i, p, "the stored log has no entry %d (entries are missing from the log tables)", i)
			}
			res.Entries++
		}
		switch {
		case haveSt && !haveEv:
			se, err := ParseEntry(stored)
			if err != nil {
				return broken(i, place{}, "the stored entry is malformed: %v", err)
			}
			return broken(i, place{se.Stream, se.Version}, "the log has %s here but the events table has no event for it (deleted or truncated)", se.Place())
		case haveSt && !bytes.Equal(stored, rebuilt):
			se, err := ParseEntry(stored)
			if err != nil {
				return broken(i, p, "the stored entry is malformed: %v", err)
			}
			re, _ := ParseEntry(rebuilt)
			if se.Stream == re.Stream && se.Version == re.Version {
				return broken(i, place{se.Stream, se.Version}, "the event was changed after it was logged: its bytes no longer hash to its entry (even if its stream's hash chain was recomputed)")
			}
			var exists bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND version = $2)`, se.Stream, se.Version).Scan(&exists); err != nil {
				return res, err
			}
			if !exists {
				return broken(i, place{se.Stream, se.Version}, "the log has %s here but the events table no longer has that event (deleted)", se.Place())
			}
			return broken(i, place{se.Stream, se.Version}, "the log has %s here but the events table has %s in its place (an event was added, changed or reordered)", se.Place(), re.Place())
		}
		hs, err := tlog.StoredHashes(i, rebuilt, &hashes)
		if err != nil {
			return res, err
		}
		if haveSt {
			var want []byte
			for _, h := range hs {
				want = append(want, h[:]...)
			}
			if !bytes.Equal(want, storedHashes) {
				return broken(i, p, "the tree hashes stored with this entry were altered")
			}
		}
		hashes = append(hashes, hs...)
		places = append(places, p)
		res.Events++
		i++
		haveEv, haveSt = evRows.Next(), stRows.Next()
	}
	if err := evRows.Err(); err != nil {
		return res, err
	}
	if err := stRows.Err(); err != nil {
		return res, err
	}
	at := func(i int64) place {
		if i >= 0 && i < int64(len(places)) {
			return places[i]
		}
		return place{}
	}

	// Every signed checkpoint is a prefix of the rebuilt tree.
	good := int64(0)
	for _, sc := range cps {
		c := sc.c
		if c.Size > res.Events {
			return broken(res.Events, at(res.Events), "%s signed %d entries but the events rebuild only %d: the events from entry %d on are missing", sc.source, c.Size, res.Events, res.Events)
		}
		if c.Size > res.Entries {
			return broken(res.Entries, at(res.Entries), "%s signed %d entries but the stored log holds only %d (the log tables were truncated)", sc.source, c.Size, res.Entries)
		}
		root, err := tlog.TreeHash(c.Size, &hashes)
		if err != nil {
			return res, err
		}
		if root != c.Root {
			return broken(good, at(good), "%s (size %d) is not a prefix of the tree the events rebuild: an entry among %d..%d was changed, and the log tables were rewritten to match", sc.source, c.Size, good, c.Size-1)
		}
		good = c.Size
		res.Checkpoints++
		res.NewestSize = c.Size
	}
	res.Intact = true
	return res, nil
}
