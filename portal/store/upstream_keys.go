package store

import (
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/config"
)

// clientKeyAssociated binds a sealed client key to its tenant and upstream,
// so a ciphertext copied to another row does not open.
func clientKeyAssociated(tenant *tenantRow, upstream string) string {
	return fmt.Sprintf("upstream-client-key:%d:%s", tenant.ID, upstream)
}

// sealClientKey returns the sealed client key of input, "" when it has
// none.
func (s *Store) sealClientKey(tenant *tenantRow, input *config.Upstream) (string, error) {
	if input.TLS == nil || input.TLS.ClientKeyPEM == "" {
		return "", nil
	}
	if s.secrets == nil {
		return "", ErrNoSecretKey
	}
	sealed, err := s.secrets.Seal(input.TLS.ClientKeyPEM, clientKeyAssociated(tenant, input.Name))
	if err != nil {
		return "", fmt.Errorf("encrypt client key of upstream %q: %w", input.Name, err)
	}
	return sealed, nil
}

// nextClientKey returns the sealed client key that an update stores: the
// new key, the stored one when client_key_set requests to keep it, or "" when
// the client certificate is gone. A kept key is checked against the new
// certificate.
func (s *Store) nextClientKey(tenant *tenantRow, record *upstreamRecord, input *config.Upstream) (string, error) {
	if input.TLS == nil || input.TLS.ClientCertPEM == "" {
		return "", nil
	}
	if input.TLS.ClientKeyPEM != "" {
		return s.sealClientKey(tenant, input)
	}

	if record.ClientKeySealed == "" {
		return "", fieldError("tls.client_key_pem", "client_key_set is true but upstream %q has no stored key: send the PEM private key in client_key_pem", input.Name)
	}
	key, err := s.openClientKey(tenant, record)
	if err != nil {
		return "", err
	}
	check := *input.TLS
	check.ClientKeyPEM = key
	if _, err := check.ClientConfig(); err != nil {
		return "", fieldError("tls.client_cert_pem", "client_cert_pem does not match the stored client key: send the matching certificate, or a new client_key_pem with it")
	}
	return record.ClientKeySealed, nil
}

func (s *Store) openClientKey(tenant *tenantRow, record *upstreamRecord) (string, error) {
	if s.secrets == nil {
		return "", ErrNoSecretKey
	}
	key, err := s.secrets.Open(record.ClientKeySealed, clientKeyAssociated(tenant, record.Name))
	if err != nil {
		return "", fmt.Errorf("decrypt client key of upstream %q in tenant %q: %w", record.Name, tenant.Slug, err)
	}
	return key, nil
}

// listBundleUpstreams returns the tenant's upstreams as the edge needs
// them: with the client keys decrypted.
func (s *Store) listBundleUpstreams(tx *gorm.DB, tenant *tenantRow) ([]config.Upstream, error) {
	records, err := listUpstreamRecords(tx, tenant)
	if err != nil {
		return nil, err
	}

	upstreams := make([]config.Upstream, 0, len(records))
	for i := range records {
		upstream, err := upstreamFromRecord(&records[i])
		if err != nil {
			return nil, err
		}
		if records[i].ClientKeySealed != "" && upstream.TLS != nil {
			upstream.TLS.ClientKeyPEM, err = s.openClientKey(tenant, &records[i])
			if err != nil {
				return nil, err
			}
			upstream.TLS.ClientKeySet = false
		}
		upstreams = append(upstreams, upstream)
	}
	return upstreams, nil
}
