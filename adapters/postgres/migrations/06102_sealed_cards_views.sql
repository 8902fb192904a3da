-- +goose Up
-- The cards view keeps the customer's names and the cards' plates only
-- sealed under the contract's key (issue 10), like the setup views
-- (06000). Its old tables held them in plaintext: they are dropped, not
-- updated, so that no live or dead tuple remains (DROP unlinks the files),
-- and the checkpoint is removed, so the projector rebuilds the view from
-- the event log on the next start. WAL segments and backups from before
-- keep the old plaintext until they are recycled or expire.
DROP SCHEMA IF EXISTS proj_cards CASCADE;
DROP SCHEMA IF EXISTS proj_cards__next CASCADE;
DELETE FROM projection_checkpoints WHERE name = 'cards';

-- +goose Down
SELECT 1;
