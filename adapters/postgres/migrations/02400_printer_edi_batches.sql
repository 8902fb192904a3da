-- +goose Up
-- The printer EDI rows are recorded by a projector in its checkpoint's
-- transaction, many cards per statement, and a writer appends the unwritten
-- ones to their day files in batches, one fsync per batch (issue 13: card
-- issue at volume). seq keeps the order the cards were issued in.
-- printer_files holds each day file's committed length: lines past it were
-- appended by a batch whose commit did not happen, and are cut off before
-- the next batch (so each card is in its file once).
ALTER TABLE printer_edi ADD COLUMN seq bigserial;
CREATE INDEX printer_edi_unwritten ON printer_edi (seq) WHERE NOT written;
CREATE TABLE printer_files (
    day  date PRIMARY KEY,
    size bigint NOT NULL
);

-- +goose Down
DROP TABLE printer_files;
DROP INDEX printer_edi_unwritten;
ALTER TABLE printer_edi DROP COLUMN seq;
