-- +goose Up
-- Personal data rests only sealed under the data subject's key (issue 10).
-- The applications view no longer copies the applicant's name and e-mail,
-- and the consents view keeps the parties sealed under the consent's key;
-- the certificates view keeps the plate and OBU number sealed under the
-- application's key.
-- Their old tables held plaintext: they are dropped, not updated, so that
-- no live or dead tuple of them remains (DROP unlinks the files), and their
-- checkpoints are removed, so the projectors rebuild them from the event
-- log on the next start. WAL segments written before this migration still
-- hold the old plaintext until the server recycles them; a backup taken
-- before it holds it until the backup expires.
DROP SCHEMA IF EXISTS proj_setup_applications CASCADE;
DROP SCHEMA IF EXISTS proj_setup_applications__next CASCADE;
DROP SCHEMA IF EXISTS proj_setup_consents CASCADE;
DROP SCHEMA IF EXISTS proj_setup_consents__next CASCADE;
DROP SCHEMA IF EXISTS proj_setup_certificates CASCADE;
DROP SCHEMA IF EXISTS proj_setup_certificates__next CASCADE;
DELETE FROM projection_checkpoints WHERE name IN ('setup_applications', 'setup_consents', 'setup_certificates');

-- Signed consent PDFs are sealed under the consent's key from now on;
-- sealed is false for a PDF stored before, in plaintext (gantry privacy
-- report lists such rows).
ALTER TABLE setup_consent_documents ADD COLUMN sealed boolean NOT NULL DEFAULT false;

-- A PDF is stored before its consent's event is appended. Keyed by consent
-- and content, the PDF of a failed or losing append (two stores racing for
-- one consent ID) can no longer take the place of the winner's: it stays
-- an orphan, sealed under the consent's key, never served, and purged by
-- the job setup-purge-orphan-documents.
ALTER TABLE setup_consent_documents DROP CONSTRAINT setup_consent_documents_pkey, ADD PRIMARY KEY (consent_id, sha256);

-- +goose Down
ALTER TABLE setup_consent_documents DROP CONSTRAINT setup_consent_documents_pkey, ADD PRIMARY KEY (consent_id);
ALTER TABLE setup_consent_documents DROP COLUMN sealed;
