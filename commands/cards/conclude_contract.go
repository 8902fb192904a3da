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
	stream := ContractStream(cmd.Application.Contract)
	var c contract.Contract
	v, err := h.Streams.Load(ctx, stream, c.Apply)
	if err != nil {
		return es.AppendResult{}, err
	}
	if err := commands.CheckIfMatch(stream, cmd.ExpectedVersion, v); err != nil {
		return es.AppendResult{}, err
	}
	if c.Concluded() {
		return es.AppendResult{}, contract.ErrContractExists.Withf("contract", "Contract %s was already concluded on %s.", c.Number(), c.ConcludedOn())
	}
	lease, err := h.Leases.Lookup(ctx, cmd.Application.Contract)
	if err != nil {
		return es.AppendResult{}, err
	}
	evs, err := c.Conclude(cmd.Application, lease, domain.DateOf(h.Clock.Now()))
	if err != nil {
		return es.AppendResult{}, err
	}
	return h.Streams.Append(ctx, stream, v, evs...)
}
