-- +goose Up
-- Every change to the token deny-list notifies the channel
-- gantry_token_revocations when it commits, whoever writes it (a logout, an
-- operator's revocation, a staff change in its own transaction, SQL by
-- hand). Each instance listens and drops the "not revoked" answers it
-- remembers (adapters/postgres.RevocationCache), so a revocation holds on
-- every instance without a deny-list read on every request.
-- +goose StatementBegin
CREATE FUNCTION gantry_token_revocations_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('gantry_token_revocations', '');
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
CREATE TRIGGER token_revocations_notify AFTER INSERT OR UPDATE ON token_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION gantry_token_revocations_notify();
CREATE TRIGGER token_subject_revocations_notify AFTER INSERT OR UPDATE ON token_subject_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION gantry_token_revocations_notify();

-- +goose Down
DROP TRIGGER token_subject_revocations_notify ON token_subject_revocations;
DROP TRIGGER token_revocations_notify ON token_revocations;
DROP FUNCTION gantry_token_revocations_notify();
