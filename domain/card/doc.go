// Package card is the corporate ETC card aggregate (one card per leased
// vehicle). The stream ID is the card number.
//
// Renewal (更新発行) and reissue (再発行) create a NEW card with its own stream,
// started by Issued naming the old card in Previous, while the old card gets
// Renewed or Invalidated naming the new card in Successor. The old card's
// command method decides both and returns a Succession; the command layer must
// append the two event lists atomically, in one transaction of the event
// store: OldEvents to the old card's stream at the version it loaded (so two
// concurrent renewals cannot both win) and NewEvents to the new card's stream
// expecting it not to exist. If the store cannot append two streams at once,
// append NewEvents first (expect no stream) and then OldEvents; a retry after
// a failure between the two reloads the old card and finds the new stream
// already there — the handler then appends only OldEvents.
//
// The in-use uniqueness per vehicle (no two 利用中 cards for one vehicle) is
// checked here from what the caller passes and must also be enforced by the
// read model with a unique index on (vehicle key) where state = in_use.
package card
