package commands

import (
	"context"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// TxStore is an event store that can append in a transaction whose other
// writes the caller makes (adapters/postgres.Store; Tx is its transaction
// type): fn makes its writes and returns the metadata and appends that
// record them. It is not part of the es.Store port: only a store that
// shares a database with those writes can offer it. See AppendWithin.
type TxStore[Tx any] interface {
	AppendWithin(ctx context.Context, fn func(ctx context.Context, tx Tx) (es.Metadata, []es.StreamAppend, error)) ([]es.AppendResult, error)
}

// AppendWithin runs fn in one transaction of store and appends the events
// fn returns in that same transaction, through s's codec and with the
// metadata and command identity of ctx (as AppendMany): fn's own writes and
// the events commit together or not at all. An error from fn, or a wrong
// expected version, writes nothing. A keyed command that was appended
// before gets the first results with Duplicate set, and fn's writes are
// rolled back.
//
// The command ID is taken after fn returns, so a command whose request is
// streamed (its ID hashes the whole body) reads the body inside fn first.
// Adapters call it for a decision that also writes rows beside the log
// (adapters/cardsdb: a usage file's records with usage.file_imported).
func AppendWithin[Tx any](ctx context.Context, s Streams, store TxStore[Tx], fn func(ctx context.Context, tx Tx) ([]StreamEvents, error)) ([]es.AppendResult, error) {
	cmd := CommandFrom(ctx)
	res, err := store.AppendWithin(ctx, func(ctx context.Context, tx Tx) (es.Metadata, []es.StreamAppend, error) {
		parts, err := fn(ctx, tx)
		if err != nil {
			return es.Metadata{}, nil, err
		}
		appends := make([]es.StreamAppend, 0, len(parts))
		for _, p := range parts {
			if len(p.Events) == 0 {
				continue
			}
			data, err := s.Codec.Encode(ctx, p.Events...)
			if err != nil {
				return es.Metadata{}, nil, err
			}
			appends = append(appends, es.StreamAppend{Stream: p.Stream, Expected: es.ExpectedVersion(p.Expected), Events: data})
		}
		md := MetadataFrom(ctx)
		if cmd.keyed() {
			md.CommandID = cmd.id() // the store records ID@stream for each part
		}
		return md, appends, nil
	})
	if err != nil {
		return nil, err
	}
	if cmd != nil {
		for _, r := range res {
			cmd.appended(r)
		}
	}
	return res, nil
}
