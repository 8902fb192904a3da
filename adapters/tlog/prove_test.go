package tlog_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/adapters/tlog"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	projaudit "github.com/gantry-etc/gantry/projections/audit"
)

// TestProverProvesEventsAgainstTheSignedCheckpoint: events in the signed
// tree come back included with a checked proof at their own entry; events
// appended after the checkpoint come back not yet included; an event
// whose stored bytes were altered is an error, not "included".
func TestProverProvesEventsAgainstTheSignedCheckpoint(t *testing.T) {
	e := newLogEnv(t)
	p := tlog.Prover{Pool: e.pool, VerifierKey: e.signer.VerifierKey()}
	refs := func(stream string) []projaudit.EventRef {
		t.Helper()
		recs, err := e.store.ReadStream(e.ctx, stream, es.Forwards, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []projaudit.EventRef
		for _, r := range recs {
			out = append(out, projaudit.EventRef{Stream: r.StreamID, Version: r.Version, Position: r.Position})
		}
		return out
	}

	// Before any checkpoint: nothing is signed.
	e.add("application-A", "S1", "A", 2)
	st, err := p.ProveInclusion(e.ctx, refs("application-A"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Signed || st.Events[1].Included {
		t.Fatalf("before the first checkpoint: %+v", st)
	}

	// Interleave streams so the searched entries are spread out.
	for i := 0; i < 20; i++ {
		e.add("application-B", "S1", "B", 3)
		e.add("application-A", "S1", "A", 1)
	}
	c := e.sync()
	e.add("application-A", "S1", "A", 2) // after the checkpoint
	ra := refs("application-A")
	st, err = p.ProveInclusion(e.ctx, ra)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Signed || st.TreeSize != c.Size || st.Root != base64.StdEncoding.EncodeToString(c.Root[:]) || st.SignedAt.IsZero() {
		t.Fatalf("checkpoint: %+v, want size %d", st, c.Size)
	}
	if len(ra) != 24 {
		t.Fatalf("%d events of A", len(ra))
	}
	seen := map[int64]bool{}
	for _, r := range ra {
		pr := st.Events[r.Version]
		want := r.Version <= 22
		if pr.Included != want {
			t.Fatalf("version %d: included %v, want %v", r.Version, pr.Included, want)
		}
		if want {
			if pr.ProofHashes == 0 || pr.Index < 0 || pr.Index >= c.Size || seen[pr.Index] {
				t.Fatalf("version %d: proof %+v", r.Version, pr)
			}
			seen[pr.Index] = true
		}
	}
	// Version 1 and 2 were the first two events of the log.
	if st.Events[1].Index != 0 || st.Events[2].Index != 1 {
		t.Fatalf("first entries: %+v %+v", st.Events[1], st.Events[2])
	}

	// An altered event no longer proves.
	if _, err := e.pool.Exec(e.ctx, `UPDATE events SET type = 'test.altered' WHERE stream_id = 'application-A' AND version = 5`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProveInclusion(e.ctx, ra); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("altered event: %v", err)
	}
}
