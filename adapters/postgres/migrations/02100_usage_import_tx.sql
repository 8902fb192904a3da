-- +goose Up
-- Usage files are imported as a stream, in ONE transaction with their
-- usage.file_imported event (issue 13): a record is COPied before the file's
-- SHA-256 is known, so it no longer carries the hash. It carries the
-- importing transaction's ID instead, which is the commit part of the
-- usage.file_imported event's position (events.transaction_id): a record
-- leads to its file's event, and the event (hash, name, counts) to its
-- records. Rows loaded before keep file_sha256 and have no import_tx.
ALTER TABLE usage_records ALTER COLUMN file_sha256 DROP NOT NULL;
ALTER TABLE usage_records ADD COLUMN import_tx xid8;
ALTER TABLE usage_records ALTER COLUMN import_tx SET DEFAULT pg_current_xact_id();

-- +goose Down
ALTER TABLE usage_records DROP COLUMN import_tx;
UPDATE usage_records SET file_sha256 = '' WHERE file_sha256 IS NULL;
ALTER TABLE usage_records ALTER COLUMN file_sha256 SET NOT NULL;
