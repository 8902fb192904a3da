-- +goose Up
-- A new data subject's key is written by the append that first seals data
-- under it, in the same statement as gantry_append and only when that
-- append wrote its events (not on a version conflict, not for a re-sent
-- command): a key row exists if and only if an event sealed under it
-- committed. A subject that
-- has another key by now (another process sealed its first event at the
-- same moment) or was shredded refuses the append with SQLSTATE GK001,
-- naming the subjects in DETAIL; the transaction rolls back, so nothing is
-- written. Subjects are IDs (application, consent, contract), never
-- personal data.
-- +goose StatementBegin
CREATE FUNCTION gantry_put_keys(p_subjects text[], p_wrapped bytea[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    changed text[];
BEGIN
    INSERT INTO subject_keys (subject, wrapped_key)
    SELECT s, w FROM unnest(p_subjects, p_wrapped) AS k(s, w)
    ON CONFLICT (subject) DO NOTHING;
    -- A new statement: it sees a row that a concurrent transaction
    -- committed while the INSERT waited for it.
    SELECT array_agg(k.s) INTO changed
    FROM unnest(p_subjects, p_wrapped) AS k(s, w)
    JOIN subject_keys sk ON sk.subject = k.s
    WHERE sk.wrapped_key IS DISTINCT FROM k.w;
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION 'gantry_put_keys: data subjects have another key or were shredded'
            USING ERRCODE = 'GK001', DETAIL = array_to_string(changed, ',');
    END IF;
    RETURN true;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION gantry_put_keys(text[], bytea[]);
