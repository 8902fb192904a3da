package cards

import (
	"context"
	"sync"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
)

// ContractStates keeps, per contract, what a card issue needs from the
// contract's stream (concluded or not, the alphabet name printed on the
// card) with the stream version it was folded at: a snapshot. A card
// issue then reads only the events after that version (none, unless the
// contract changed) instead of replaying and decoding the whole stream,
// whose conclusion event carries the lease with every vehicle and sealed
// personal data. Events never change, so the state at a version stays
// right; nothing personal is kept (the alphabet name is printed on the
// cards). Safe for concurrent use; the zero value is ready.
type ContractStates struct {
	mu sync.Mutex
	m  map[contract.Number]contractState
}

type contractState struct {
	version   int64
	concluded bool
	alphaName contract.AlphaName
}

// load answers the contract's state from its stream: the kept state when
// no event follows its version, else a full replay (kept for next time).
// A nil ContractStates always replays.
func (c *ContractStates) load(ctx context.Context, s EventStreams, n contract.Number) (contractState, error) {
	if c != nil {
		c.mu.Lock()
		st, ok := c.m[n]
		c.mu.Unlock()
		if ok {
			changed := false
			if _, err := s.LoadAfter(ctx, ContractStream(n), st.version, func(domain.Event) { changed = true }); err != nil {
				return contractState{}, err
			}
			if !changed {
				return st, nil
			}
		}
	}
	var k contract.Contract
	v, err := s.Load(ctx, ContractStream(n), k.Apply)
	if err != nil {
		return contractState{}, err
	}
	st := contractState{version: v, concluded: k.Concluded(), alphaName: k.AlphaName()}
	if c != nil && v > 0 {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[contract.Number]contractState{}
		}
		c.m[n] = st
		c.mu.Unlock()
	}
	return st, nil
}
