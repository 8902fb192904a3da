// Package eventstore is the event-store port that commands and projections
// use, and the codec that turns domain events into stored events and back
// (schema versions, upcasters, sealing of personal data).
//
// Adapters (PostgreSQL in adapters/postgres, KurrentDB later) implement Store
// and must pass the conformance suite in test/storetest.
//
// Global order. Every stored event has a Position in the global log ($all).
// A Position is a (Commit, Prepare) pair compared lexicographically, as in
// KurrentDB; in the PostgreSQL adapter Commit is the writing transaction's
// xid8 and Prepare the event's sequence number. Readers of $all see every
// committed event exactly once, in Position order, with no gaps: an event is
// delivered only when no transaction that could still commit an event before
// it is open. The price: a long-open transaction delays delivery (never
// correctness); that delay is exposed as projector lag.
package eventstore
