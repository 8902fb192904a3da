package cards

import (
	"context"

	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
)

// ConcludeContract concludes the ETC service contract of an application
// after checking it against the lease system. A retry of a concluded
// contract is contract.ErrContractExists (409).
// ExpectedVersion is the contract stream's version the caller read
// (If-Match), or NoExpectedVersion.
type ConcludeContract struct {
	Application     contract.Application
	ExpectedVersion int64
}

// ConcludeContractHandler runs ConcludeContract.
type ConcludeContractHandler struct {
	Streams EventStreams
	Leases  LeaseLookup
	Clock   commands.Clock
}

func (h ConcludeContractHandler) Handle(ctx context.Context, cmd ConcludeContract) (es.AppendResult, error) {
	_, res, err := h.HandleContract(ctx, cmd)
	return res, err
}

// HandleContract runs cmd like Handle and answers the concluded contract as
// the command's own events make it: the caller can answer at once, without
// waiting for a view.
func (h ConcludeContractHandler) HandleContract(ctx context.Context, cmd ConcludeContract) (*contract.Contract, es.AppendResult, error) {
	stream := ContractStream(cmd.Application.Contract)
	var c contract.Contract
	v, err := h.Streams.Load(ctx, stream, c.Apply)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if err := commands.CheckIfMatch(stream, cmd.ExpectedVersion, v); err != nil {
		return nil, es.AppendResult{}, err
	}
	if c.Concluded() {
		return nil, es.AppendResult{}, contract.ErrContractExists.Withf("contract", "Contract %s was already concluded on %s.", c.Number(), c.ConcludedOn())
	}
	lease, err := h.Leases.Lookup(ctx, cmd.Application.Contract)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	evs, err := c.Conclude(cmd.Application, lease, domain.DateOf(h.Clock.Now()))
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	res, err := h.Streams.Append(ctx, stream, v, evs...)
	if err != nil {
		return nil, es.AppendResult{}, err
	}
	if res.Duplicate {
		// A retry of a concluded command: answer what the log holds
		// (the whole stream, its own events included).
		var first contract.Contract
		if _, err := h.Streams.Load(commands.WithCommand(ctx, nil), stream, first.Apply); err != nil {
			return nil, es.AppendResult{}, err
		}
		return &first, res, nil
	}
	for _, e := range evs {
		c.Apply(e)
	}
	return &c, res, nil
}
