-- +goose Up
-- Custom domains of tenants. A hostname belongs to one tenant across the
-- whole service. verified_at stays NULL until the DNS TXT check passes.
-- private_key_sealed holds the AES-256-GCM ciphertext of the certificate's
-- private key; certificate_pem holds the leaf and its chain.
CREATE TABLE domains (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	hostname text NOT NULL,
	verification_token text NOT NULL,
	verified_at TIMESTAMPTZ,
	certificate_pem text NOT NULL DEFAULT '',
	private_key_sealed text NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_domains_hostname ON domains(hostname);
CREATE INDEX idx_domains_tenant_id ON domains(tenant_id);

-- Per-route HTTPS redirect and HSTS policy; hsts is the JSON of
-- config.HSTS, empty for none.
ALTER TABLE routes ADD COLUMN https_redirect boolean NOT NULL DEFAULT false;
ALTER TABLE routes ADD COLUMN hsts text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE routes DROP COLUMN hsts;
ALTER TABLE routes DROP COLUMN https_redirect;
DROP TABLE domains;
