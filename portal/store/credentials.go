package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
)

// ErrNoSecretKey is returned for a credential with a secret when the store
// has no key to encrypt it with.
var ErrNoSecretKey = errors.New("no secret key configured: set PORTCULLIS_SECRET_KEY to the base64 of 32 random bytes, or let the server generate the secret-key file in its data folder")

// credentialRow is one credential of a consumer. Secrets never leave the
// store: SecretSealed is AES-256-GCM ciphertext bound to PublicID, and
// PasswordHash is an argon2id hash.
type credentialRow struct {
	ID         uint `gorm:"primaryKey"`
	PublicID   string
	TenantID   uint
	ConsumerID uint
	Type       string
	Hint       string
	Username   string
	KeyID      string
	Algorithm  string
	PublicKey  string
	// KeySHA256 is the hex SHA-256 of a key-auth key, nil for other types.
	KeySHA256    *string `gorm:"column:key_sha256"`
	SecretSealed string
	PasswordHash string
	CreatedAt    time.Time
}

func (credentialRow) TableName() string { return "consumer_credentials" }

// Credential describes a consumer's credential without its secret.
type Credential struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Hint helps to tell credentials apart without revealing a secret: the
	// last 4 characters of an API key, a basic-auth username, an hmac
	// key_id, or a jwt algorithm with the public key's fingerprint.
	Hint      string    `json:"hint"`
	Username  string    `json:"username,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Algorithm string    `json:"algorithm,omitempty"`
	PublicKey string    `json:"public_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// NewCredential is the response to a credential create request. Key is
// set only for a key-auth credential whose key the portal generated, and
// this response is the only time it is shown.
type NewCredential struct {
	Credential
	Key string `json:"key,omitempty"`
}

func credentialFromRow(row *credentialRow) Credential {
	return Credential{
		ID:        row.PublicID,
		Type:      row.Type,
		Hint:      row.Hint,
		Username:  row.Username,
		KeyID:     row.KeyID,
		Algorithm: row.Algorithm,
		PublicKey: row.PublicKey,
		CreatedAt: row.CreatedAt.UTC(),
	}
}

func newCredentialID() (string, error) {
	var random [8]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("generate credential id: %w", err)
	}
	return "crd_" + hex.EncodeToString(random[:]), nil
}

// sealCredential assigns the public id and encrypts the secret.
func (s *Store) sealCredential(checked *checkedCredential) error {
	id, err := newCredentialID()
	if err != nil {
		return err
	}
	checked.row.PublicID = id

	if checked.secret == "" {
		return nil
	}
	if s.secrets == nil {
		return ErrNoSecretKey
	}
	checked.row.SecretSealed, err = s.secrets.Seal(checked.secret, id)
	if err != nil {
		return fmt.Errorf("encrypt secret of credential %q: %w", id, err)
	}
	return nil
}

// CreateCredential adds a credential to a consumer.
func (s *Store) CreateCredential(ctx context.Context, slug, consumer string, input CredentialInput) (NewCredential, error) {
	checked, err := checkCredential(input)
	if err != nil {
		return NewCredential{}, err
	}
	if err := s.sealCredential(&checked); err != nil {
		return NewCredential{}, err
	}

	row := checked.row
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		owner, err := findConsumer(tx, tenant, consumer)
		if err != nil {
			return change{}, err
		}
		if err := checkKeyUnused(tx, tenant, row.KeySHA256); err != nil {
			return change{}, err
		}

		row.TenantID, row.ConsumerID = tenant.ID, owner.ID
		row.CreatedAt = tx.NowFunc()
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("create %s credential of consumer %q in tenant %q: %w", row.Type, consumer, slug, err)
		}
		return change{kind: KindCreate, resource: "credential/" + row.PublicID}, nil
	})
	if err != nil {
		return NewCredential{}, err
	}
	return NewCredential{Credential: credentialFromRow(&row), Key: checked.generatedKey}, nil
}

// checkKeyUnused rejects a key-auth key that another credential of the
// tenant already has, because the edge could not tell the consumers apart.
func checkKeyUnused(tx *gorm.DB, tenant *tenantRow, keyHash *string) error {
	if keyHash == nil {
		return nil
	}

	var count int64
	if err := scoped(tx.Model(&credentialRow{}), tenant).Where("key_sha256 = ?", *keyHash).Count(&count).Error; err != nil {
		return fmt.Errorf("check key-auth keys of tenant %q: %w", tenant.Slug, err)
	}
	if count > 0 {
		return conflict("this key-auth key is already in use in tenant %q: choose another key, or leave key out to get a generated one", tenant.Slug)
	}
	return nil
}

// ListCredentials returns the credentials of a consumer in creation order,
// without secrets.
func (s *Store) ListCredentials(ctx context.Context, slug, consumer string) ([]Credential, error) {
	credentials := []Credential{}

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		owner, err := findConsumer(tx, tenant, consumer)
		if err != nil {
			return err
		}

		var rows []credentialRow
		if err := scoped(tx, tenant).Where("consumer_id = ?", owner.ID).Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("list credentials of consumer %q in tenant %q: %w", consumer, slug, err)
		}
		for i := range rows {
			credentials = append(credentials, credentialFromRow(&rows[i]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return credentials, nil
}

// DeleteCredential deletes one credential of a consumer.
func (s *Store) DeleteCredential(ctx context.Context, slug, consumer, id string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		owner, err := findConsumer(tx, tenant, consumer)
		if err != nil {
			return change{}, err
		}

		result := scoped(tx, tenant).Where("consumer_id = ? AND public_id = ?", owner.ID, id).Delete(&credentialRow{})
		if result.Error != nil {
			return change{}, fmt.Errorf("delete credential %q of consumer %q in tenant %q: %w", id, consumer, slug, result.Error)
		}
		if result.RowsAffected == 0 {
			return change{}, &NotFoundError{Resource: "credential", Name: id}
		}
		return change{kind: KindDelete, resource: "credential/" + id}, nil
	})
	return err
}

// bundleCredential returns what an edge needs of a credential to identify
// its consumer: the key hash of a key-auth credential and the public key of
// a jwt one. Sealed secrets and password hashes stay in the store.
func bundleCredential(row *credentialRow) bundle.CredentialRef {
	ref := bundle.CredentialRef{ID: row.PublicID, Type: row.Type, Hint: row.Hint}
	if row.KeySHA256 != nil {
		ref.KeySHA256 = *row.KeySHA256
	}
	if row.Type == CredentialJWT && row.PublicKey != "" {
		ref.Algorithm, ref.PublicKey = row.Algorithm, row.PublicKey
	}
	return ref
}

// listBundleConsumers returns the tenant's consumers for a bundle, ordered
// by name, each with what bundleCredential keeps of its credentials.
func listBundleConsumers(tx *gorm.DB, tenant *tenantRow) ([]bundle.Consumer, error) {
	var consumers []consumerRow
	if err := scoped(tx, tenant).Order("name").Find(&consumers).Error; err != nil {
		return nil, fmt.Errorf("list consumers of tenant %q: %w", tenant.Slug, err)
	}
	var credentials []credentialRow
	if err := scoped(tx, tenant).Select("public_id", "consumer_id", "type", "hint", "key_sha256", "algorithm", "public_key").Order("id").Find(&credentials).Error; err != nil {
		return nil, fmt.Errorf("list credentials of tenant %q: %w", tenant.Slug, err)
	}

	byConsumer := make(map[uint][]bundle.CredentialRef, len(consumers))
	for _, row := range credentials {
		byConsumer[row.ConsumerID] = append(byConsumer[row.ConsumerID], bundleCredential(&row))
	}

	refs := make([]bundle.Consumer, 0, len(consumers))
	for _, row := range consumers {
		creds := byConsumer[row.ID]
		if creds == nil {
			creds = []bundle.CredentialRef{}
		}
		refs = append(refs, bundle.Consumer{Name: row.Name, Credentials: creds})
	}
	return refs, nil
}
