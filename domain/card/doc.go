// Package card is the corporate ETC card aggregate (one card per leased
// vehicle). The stream ID is the card number.
//
// Renewal (更新発行) and reissue (再発行) create a NEW card with its own stream,
// started by Issued naming the old card in Previous, while the old card gets
// Renewed or Invalidated naming the new card in Successor. The old card's
// command method decides both and returns a Succession.
//
// "One card in use per vehicle" is VehicleClaim, a tiny aggregate with one
// stream per vehicle. The command layer appends the old card's events (at the
// version it loaded), the new card's events (expecting no stream) and the
// claim's events (at the version it loaded) in ONE event-store transaction,
// so all of them are written or none, and of two concurrent decisions for one
// card or one vehicle exactly one wins (commands/cards, appendSuccession).
package card
