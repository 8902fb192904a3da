-- +goose Up
-- Invoice detail lines (issue 13: events stay small). invoice.issued and
-- invoice.adjustment_issued (schema v2) commit to their lines (count and
-- SHA-256) instead of embedding them; the lines are kept here, written in
-- the same transaction as the event. document is the invoice or adjustment
-- number, part "lines" (an invoice), "removed" or "added" (an adjustment),
-- seq the line's place in the detail order (from 1), line its canonical
-- JSON (domain/billing.CanonicalLine), kept as text so the bytes hashed are
-- the bytes stored. Rows are never changed or removed (電子帳簿保存法:
-- corrections are adjustments): the trigger refuses UPDATE, DELETE and
-- TRUNCATE.
CREATE TABLE invoice_lines (
    document text NOT NULL,
    part     text NOT NULL CHECK (part IN ('lines', 'removed', 'added')),
    seq      integer NOT NULL CHECK (seq > 0),
    line     text NOT NULL,
    PRIMARY KEY (document, part, seq)
);

-- +goose StatementBegin
CREATE FUNCTION invoice_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoice lines are immutable (% refused); issue an adjustment instead', TG_OP
        USING ERRCODE = 'GX403';
END $$;
-- +goose StatementEnd
CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoice_lines_immutable();
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_lines_immutable();

-- +goose Down
DROP TABLE invoice_lines;
DROP FUNCTION invoice_lines_immutable();
