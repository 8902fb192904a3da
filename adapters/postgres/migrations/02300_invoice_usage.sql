-- +goose Up
-- Toll lines by reference (issue 13: billing at real volume). A toll line is
-- a function of its usage record alone (billing.TollLine), so an invoice's
-- toll lines are not copied into invoice_lines: invoice_usage names the
-- usage records they bill, and a reader rebuilds the lines from
-- usage_records and checks them, with the stored fee lines, against the
-- event's commitment (count and SHA-256), as before. invoice_lines keeps
-- the other lines (fees; every line of an adjustment).
--
-- The records of one invoice part are those of usage_records with card in
-- cards and usage_date in [first_day, last_day] that are visible in
-- snapshot: the snapshot of the statement that counted them inside the
-- invoice's append transaction (invoice_usage_keep). A record's import_tx
-- is the transaction that inserted it (migration 02100), so a record
-- imported later (a late passage, billed by an adjustment) is not in the
-- snapshot and never joins an issued invoice. Rows loaded before 02100
-- have no import_tx and are all older than any such snapshot.
CREATE TABLE invoice_usage (
    document  text NOT NULL,
    part      text NOT NULL CHECK (part IN ('lines', 'removed', 'added')),
    cards     text[] NOT NULL,
    first_day date NOT NULL,
    last_day  date NOT NULL,
    snapshot  pg_snapshot NOT NULL,
    count     integer NOT NULL CHECK (count > 0),
    PRIMARY KEY (document, part)
);
CREATE TRIGGER invoice_usage_no_update BEFORE UPDATE OR DELETE ON invoice_usage
    FOR EACH ROW EXECUTE FUNCTION invoice_lines_immutable();
CREATE TRIGGER invoice_usage_no_truncate BEFORE TRUNCATE ON invoice_usage
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_lines_immutable();

-- Usage records are immutable: an issued invoice's toll lines are read from
-- them. A correction is a new record (and an adjustment), never a change.
-- +goose StatementBegin
CREATE FUNCTION usage_records_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'usage records are immutable (% refused): invoices are read from them; import a corrected record instead', TG_OP
        USING ERRCODE = 'GX403';
END $$;
-- +goose StatementEnd
CREATE TRIGGER usage_records_no_update BEFORE UPDATE OR DELETE ON usage_records
    FOR EACH ROW EXECUTE FUNCTION usage_records_immutable();
CREATE TRIGGER usage_records_no_truncate BEFORE TRUNCATE ON usage_records
    FOR EACH STATEMENT EXECUTE FUNCTION usage_records_immutable();

-- invoice_usage_keep records the reference of one invoice part whose toll
-- lines are exactly n records of cards in [first_day, last_day]: it counts
-- them and takes the snapshot in ONE statement (one snapshot), and refuses
-- with GX409 when the count differs (a usage import committed between the
-- billing run's read and its append: the run computes the contract again).
-- +goose StatementBegin
CREATE FUNCTION invoice_usage_keep(p_document text, p_part text, p_cards text[], p_first date, p_last date, p_count integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO invoice_usage (document, part, cards, first_day, last_day, snapshot, count)
    SELECT p_document, p_part, p_cards, p_first, p_last, pg_current_snapshot(), p_count
    FROM (SELECT count(*) AS n FROM usage_records
          WHERE card = ANY (p_cards) AND usage_date BETWEEN p_first AND p_last) c
    WHERE c.n = p_count;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'usage records of % changed during the billing run', p_document
            USING ERRCODE = 'GX409';
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION invoice_usage_keep(text, text, text[], date, date, integer);
DROP TRIGGER usage_records_no_truncate ON usage_records;
DROP TRIGGER usage_records_no_update ON usage_records;
DROP FUNCTION usage_records_immutable();
DROP TABLE invoice_usage;
