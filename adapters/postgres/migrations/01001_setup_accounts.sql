-- +goose Up
-- The bus schema exists before the bus starts (the outbox projector and the
-- subscribers both create their tables in it).
CREATE SCHEMA IF NOT EXISTS bus;

-- Setup stores (セットアップ登録店) and staff accounts. Staff log in with
-- staff ID + password (bcrypt); other methods (IC card + face) can add
-- their own credential tables keyed by staff_id later.
CREATE TABLE setup_stores (
    store_id   text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE setup_staff_accounts (
    staff_id      text        PRIMARY KEY,
    store_id      text        REFERENCES setup_stores (store_id),
    role          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role IN ('store_staff', 'store_admin', 'finance', 'auditor', 'regulator', 'operator_admin')),
    CHECK ((role IN ('store_staff', 'store_admin')) = (store_id IS NOT NULL))
);

-- Signed proxy consent PDFs (委任状), kept 5 years then deleted with the
-- consent's retention end. sha256 is what the consent event references.
CREATE TABLE setup_consent_documents (
    consent_id text        PRIMARY KEY,
    sha256     text        NOT NULL,
    pdf        bytea       NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE setup_consent_documents;
DROP TABLE setup_staff_accounts;
DROP TABLE setup_stores;
