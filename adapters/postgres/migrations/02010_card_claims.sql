-- +goose Up
-- Atomic card succession (issue 8 item 6): "one card in use per vehicle" is
-- now the vehicle claim stream (vehicle-<key>, card.vehicle_claimed /
-- card.vehicle_released), appended in the same event-store transaction as
-- the card events, and card numbers are unique because each card stream is
-- started expecting no stream. card_registry is no longer written.

-- card_number_allocations remembers the serial given to a command ID, so a
-- retried command gets the same card number (and thus the event store's
-- first result). Not a registry: a row without a card stream is a gap.
CREATE TABLE card_number_allocations (
    command_id text PRIMARY KEY,
    serial     bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The old registry is kept under a new name only until the service has
-- turned its in-use rows into vehicle claim streams (commands/cards
-- MoveLegacyRegistry, run once after migrating); it then drops the table.
ALTER TABLE card_registry RENAME TO card_registry_legacy;
ALTER INDEX card_registry_one_in_use RENAME TO card_registry_legacy_one_in_use;

-- +goose Down
CREATE TABLE IF NOT EXISTS card_registry_legacy (
    card        text PRIMARY KEY,
    contract    text NOT NULL,
    vehicle_key text NOT NULL,
    state       text NOT NULL
);
ALTER TABLE card_registry_legacy RENAME TO card_registry;
DROP TABLE card_number_allocations;
