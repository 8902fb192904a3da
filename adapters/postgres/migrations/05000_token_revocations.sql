-- +goose Up
-- The API token deny-list. A logout denies one token ID until the token
-- would have expired anyway (then the row is pruned); a subject's
-- not_before denies every token issued to it before that instant (a role or
-- store change, a lost device). Neither holds personal data.
CREATE TABLE token_revocations (
    jti        text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX token_revocations_expiry ON token_revocations (expires_at);

CREATE TABLE token_subject_revocations (
    subject    text        PRIMARY KEY,
    not_before timestamptz NOT NULL
);

-- +goose Down
DROP TABLE token_subject_revocations;
DROP TABLE token_revocations;
