// Package cards runs the commands of the corporate ETC card business:
// contracts, card issue/renewal/reissue/cancellation, renewal notices, usage
// import and the monthly billing run. One command per file; this file holds
// the ports they share and the stream names.
package cards

import (
	"context"

	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
)

// Stream names. Durable: they are the stream IDs on disk.
func ContractStream(n contract.Number) string      { return "contract-" + n.String() }
func CardStream(n card.CardNumber) string          { return "card-" + n.String() }
func InvoiceStream(n billing.InvoiceNumber) string { return "invoice-" + n.String() }
func UsageFileStream(sha256hex string) string      { return "usage-file-" + sha256hex }

// LeaseLookup is the lease contract system (adapters/lease).
type LeaseLookup interface {
	Lookup(ctx context.Context, n contract.Number) (contract.Lease, error)
}

// CardNumbers allocates new card numbers; concurrent callers never get the
// same one.
type CardNumbers interface {
	Next(ctx context.Context) (card.CardNumber, error)
}

// InUse is the command-side card registry that enforces "one card in use
// per vehicle" with a unique index.
type InUse interface {
	// Reserve records a new card in use for the vehicle; card.ErrCardInUse
	// when the vehicle already has one.
	Reserve(ctx context.Context, c card.CardNumber, n contract.Number, v contract.VehicleNumber) error
	// Release forgets a reservation whose events could not be appended.
	Release(ctx context.Context, c card.CardNumber) error
	// Succeed ends old (state renewed or invalid) and puts successor in use for
	// the same vehicle, atomically; card.ErrCardNotInUse when old is not in use.
	Succeed(ctx context.Context, old, successor card.CardNumber, oldState card.State) error
	// Undo reverses Succeed after a failed append.
	Undo(ctx context.Context, old, successor card.CardNumber) error
	// SetState records a final state (cancelled).
	SetState(ctx context.Context, c card.CardNumber, s card.State) error
}
