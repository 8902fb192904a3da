package audit

import (
	"context"
	"time"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// InclusionProver proves events against the transparency log's newest
// signed checkpoint (adapters/tlog.Prover): it finds each event's entry in
// the stored log, computes its RFC 6962 inclusion proof and checks it
// against the checkpoint's signed root.
type InclusionProver interface {
	ProveInclusion(ctx context.Context, events []EventRef) (ProofStatus, error)
}

// EventRef names an event to prove: its stream, version and place in the
// global log (the log's order).
type EventRef struct {
	Stream   string
	Version  int64
	Position es.Position
}

// ProofStatus is what a proof run found.
type ProofStatus struct {
	// Signed is false before the log's first signed checkpoint.
	Signed bool
	// The newest signed checkpoint: tree size, when it was signed, its
	// root hash (base64).
	TreeSize int64
	SignedAt time.Time
	Root     string
	// Events by version: the events asked for.
	Events map[int64]EventProof
}

// EventProof is one event's status against the checkpoint.
type EventProof struct {
	// Included: the inclusion proof checked against the signed root.
	// False: the event is newer than the checkpoint (not yet signed).
	Included bool
	// Index is the event's entry in the log (when included).
	Index int64
	// ProofHashes is the proof's length.
	ProofHashes int
}

// Proofs returns the proof status of the events against the newest signed
// checkpoint. Without a prover (no transparency log configured) it answers
// ok false.
func (r Reader) Proofs(ctx context.Context, events []EventView) (st ProofStatus, ok bool, err error) {
	if r.Prover == nil {
		return ProofStatus{}, false, nil
	}
	refs := make([]EventRef, 0, len(events))
	for _, e := range events {
		pos, err := es.ParsePosition(e.Position)
		if err != nil {
			return ProofStatus{}, false, err
		}
		refs = append(refs, EventRef{Stream: e.Stream, Version: e.Version, Position: pos})
	}
	st, err = r.Prover.ProveInclusion(ctx, refs)
	return st, err == nil, err
}
