-- +goose Up
-- The printer EDI day file is appended to, one line per card, instead of
-- rewritten whole (issue 13). printer_edi.written records that a card's line
-- is in its day file (fsynced): a re-delivered event whose row is not
-- marked repairs the file (the crash came between recording and writing).
-- Rows from before were all written by the old rewrite.
ALTER TABLE printer_edi ADD COLUMN written boolean NOT NULL DEFAULT true;
ALTER TABLE printer_edi ALTER COLUMN written SET DEFAULT false;

-- +goose Down
ALTER TABLE printer_edi DROP COLUMN written;
