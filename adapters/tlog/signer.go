package tlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"
)

// CheckpointPublisher publishes a signed checkpoint to the integration bus,
// in tx when the bus is transactional (adapters/bus).
type CheckpointPublisher interface {
	PublishCheckpoint(ctx context.Context, tx pgx.Tx, size int64, note []byte) error
}

// ErrInconsistent: the stored tree does not extend a checkpoint signed
// before. Nothing is signed until an operator finds out why.
var ErrInconsistent = errors.New("tlog: the stored tree is not consistent with a signed checkpoint")

// Publisher signs a checkpoint of the stored tree whenever it has grown
// (checking every Every), after proving it consistent with the last
// checkpoint signed (in the database, in this process, or in Dir), then
// stores it, publishes it on the bus in the same transaction and writes it
// to Dir. Run it in one goroutine; several processes are serialised by an
// advisory lock.
type Publisher struct {
	Pool   *pgxpool.Pool
	Signer *Signer
	Dir    string              // witness directory (GANTRY_CHECKPOINT_DIR); "" writes none
	Bus    CheckpointPublisher // may be nil
	Every  time.Duration       // default 250ms
	Now    func() time.Time
	Log    *slog.Logger

	mu       sync.Mutex
	last     *Checkpoint
	loaded   bool
	lastErr  error
	refusals int64              // signatures refused: the stored tree did not extend a signed checkpoint
	OnSigned func(c Checkpoint) // called after a checkpoint is stored and written (tests, benchmarks)
}

// signLock serialises signers of one database.
const signLock = 72741

// Run signs until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := p.SignOnce(ctx); err != nil && ctx.Err() == nil {
			level := slog.LevelWarn
			if errors.Is(err, ErrInconsistent) {
				level = slog.LevelError
			}
			if p.Log != nil {
				p.Log.Log(ctx, level, "transparency log: no checkpoint signed", "err", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Err is the last signing failure, or nil once a signature succeeded.
func (p *Publisher) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// SignOnce signs the stored tree if it grew since the last checkpoint; it
// returns the newest checkpoint and whether it signed one now.
func (p *Publisher) SignOnce(ctx context.Context) (Checkpoint, bool, error) {
	c, signed, err := p.signOnce(ctx)
	p.mu.Lock()
	p.lastErr = err
	if errors.Is(err, ErrInconsistent) {
		p.refusals++
	}
	p.mu.Unlock()
	return c, signed, err
}

func (p *Publisher) signOnce(ctx context.Context) (Checkpoint, bool, error) {
	if err := p.loadDir(); err != nil {
		return Checkpoint{}, false, err
	}
	var (
		out    Checkpoint
		note   []byte
		signed bool
	)
	err := pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signLock); err != nil {
			return err
		}
		n, err := treeSize(ctx, tx)
		if err != nil {
			return err
		}
		last, err := p.lastSigned(ctx, tx)
		if err != nil {
			return err
		}
		if n == 0 && last == nil {
			return nil // the empty tree is not signed (x/mod's empty root is not RFC 6962's)
		}
		r := newDBHashes(ctx, tx)
		root, err := tlog.TreeHash(n, r)
		if err != nil {
			return err
		}
		if last != nil {
			if n < last.Size {
				return fmt.Errorf("%w: the log holds %d entries but a checkpoint of %d entries was signed", ErrInconsistent, n, last.Size)
			}
			if n == last.Size {
				if root != last.Root {
					return fmt.Errorf("%w: the root of the %d stored entries is not the signed one", ErrInconsistent, n)
				}
				out = *last
				return nil
			}
			proof, err := tlog.ProveTree(n, last.Size, r)
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(proof, n, root, last.Size, last.Root); err != nil {
				return fmt.Errorf("%w: tree of %d entries does not extend the checkpoint of %d: %v", ErrInconsistent, n, last.Size, err)
			}
		}
		out = Checkpoint{Origin: p.Signer.Origin(), Size: n, Root: root}
		if note, err = p.Signer.Sign(out); err != nil {
			return err
		}
		now := time.Now()
		if p.Now != nil {
			now = p.Now()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tlog_checkpoints (tree_size, root, note, signed_at) VALUES ($1, $2, $3, $4)`,
			n, root[:], string(note), now); err != nil {
			return err
		}
		if p.Bus != nil {
			if err := p.Bus.PublishCheckpoint(ctx, tx, n, note); err != nil {
				return fmt.Errorf("tlog: publishing checkpoint %d on the bus: %w", n, err)
			}
		}
		signed = true
		return nil
	})
	if err != nil || !signed {
		return out, false, err
	}
	p.mu.Lock()
	p.last = &out
	p.mu.Unlock()
	if p.Dir != "" {
		if err := WriteCheckpointFile(p.Dir, out.Size, note); err != nil {
			return out, true, err
		}
	}
	if p.OnSigned != nil {
		p.OnSigned(out)
	}
	return out, true, nil
}

// lastSigned is the largest checkpoint known: stored, signed by this
// process, or in the witness directory (which a database rewrite does not
// reach).
func (p *Publisher) lastSigned(ctx context.Context, tx pgx.Tx) (*Checkpoint, error) {
	stored, ok, err := latestCheckpoint(ctx, tx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	if ok && (last == nil || stored.Checkpoint.Size > last.Size) {
		last = &stored.Checkpoint
	}
	return last, nil
}

// loadDir reads the newest checkpoint in Dir once, at the first signature.
func (p *Publisher) loadDir() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loaded || p.Dir == "" {
		return nil
	}
	files, err := ReadCheckpointDir(p.Dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		c, err := OpenCheckpoint(f.Note, p.Signer.VerifierKey())
		if err != nil {
			return fmt.Errorf("tlog: %s: %w", f.Path, err)
		}
		if p.last == nil || c.Size > p.last.Size {
			p.last = &c
		}
	}
	p.loaded = true
	return nil
}

// CheckpointFile is a signed checkpoint note read from a directory.
type CheckpointFile struct {
	Path string
	Note []byte
}

// ReadCheckpointDir reads every regular file of dir (hidden and temporary
// files aside) as a signed checkpoint note. A missing dir has none.
func ReadCheckpointDir(dir string) ([]CheckpointFile, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []CheckpointFile
	for _, de := range des {
		if !de.Type().IsRegular() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, de.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, CheckpointFile{Path: path, Note: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// WriteCheckpointFile writes a signed checkpoint to dir as
// <20-digit size>.checkpoint, atomically (a temporary file renamed).
func WriteCheckpointFile(dir string, size int64, note []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".checkpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(note); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, fmt.Sprintf("%020d.checkpoint", size)))
}
