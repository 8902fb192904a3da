-- +goose Up
-- A staff account's version: its ETag, so that a role or store change can
-- honour If-Match (PATCH /v1/admin/staff/{id}). Each change adds one.
ALTER TABLE setup_staff_accounts ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE setup_staff_accounts DROP COLUMN version;
