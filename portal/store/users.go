package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/portal/accounts"
)

// lastUsedPrecision is the maximum age of a token's last_used_at. Requests
// within it skip the update, so reads do not each cost a write.
const lastUsedPrecision = time.Minute

// userRow is a person who signs in with an email and a password.
type userRow struct {
	ID       uint
	PublicID string
	// Email is lower-cased, see accounts.NormalizeEmail.
	Email string
	Name  string
	// PasswordHash is an argon2id PHC string from accounts.HashPassword.
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

// userTokenRow is a personal API token or a login session of a user. Only
// the token's SHA-256 is stored.
type userTokenRow struct {
	ID          uint
	PublicID    string
	UserID      uint
	Kind        string
	Name        string
	TokenSHA256 string `gorm:"column:token_sha256"`
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	// ExpiresAt is nil for a token that does not expire.
	ExpiresAt *time.Time
}

func (userTokenRow) TableName() string { return "user_tokens" }

// User is an account, without its password hash.
type User struct {
	// ID is the public id, such as "usr_4f0c2a9e1b7d3c65".
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// NewUser is the input of CreateUser. The caller validates the fields and
// hashes the password.
type NewUser struct {
	Email        string
	Name         string
	PasswordHash string
}

// UserToken describes a token of a user without the token itself.
type UserToken struct {
	// ID is the public id, such as "tok_4f0c2a9e1b7d3c65".
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

// NewUserToken is the input of CreateUserToken: the token's SHA-256, never
// the token.
type NewUserToken struct {
	Kind      string
	Name      string
	SHA256    string
	ExpiresAt *time.Time
}

func userFromRow(row *userRow) User {
	return User{ID: row.PublicID, Email: row.Email, Name: row.Name, CreatedAt: row.CreatedAt}
}

func tokenFromRow(row *userTokenRow) UserToken {
	return UserToken{
		ID:         row.PublicID,
		Kind:       row.Kind,
		Name:       row.Name,
		CreatedAt:  row.CreatedAt,
		LastUsedAt: row.LastUsedAt,
		ExpiresAt:  row.ExpiresAt,
	}
}

// newPublicID returns prefix followed by 16 random hex digits.
func newPublicID(prefix string) (string, error) {
	var random [8]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("read random %s id: %w", prefix, err)
	}
	return prefix + hex.EncodeToString(random[:]), nil
}

// CreateUser creates an account, or returns a ConflictError when the email
// has one.
func (s *Store) CreateUser(ctx context.Context, input NewUser) (User, error) {
	publicID, err := newPublicID("usr_")
	if err != nil {
		return User{}, err
	}
	row := userRow{PublicID: publicID, Email: input.Email, Name: input.Name, PasswordHash: input.PasswordHash}

	err = s.writer.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return User{}, conflict("an account for %q already exists: log in with POST /api/v1/login instead", input.Email)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", input.Email, err)
	}
	return userFromRow(&row), nil
}

// UserCredentials returns the account with the email and its password hash,
// or a NotFoundError.
func (s *Store) UserCredentials(ctx context.Context, email string) (User, string, error) {
	var row userRow
	result := s.reader.WithContext(ctx).Where("email = ?", email).Limit(1).Find(&row)
	if result.Error != nil {
		return User{}, "", fmt.Errorf("read user %q: %w", email, result.Error)
	}
	if result.RowsAffected == 0 {
		return User{}, "", &NotFoundError{Resource: "user", Name: email}
	}
	return userFromRow(&row), row.PasswordHash, nil
}

func findUser(tx *gorm.DB, column, value string) (*userRow, error) {
	var row userRow
	result := tx.Where(column+" = ?", value).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read user %q: %w", value, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "user", Name: value}
	}
	return &row, nil
}

// CreateUserToken stores a token of the user with the public id userID.
func (s *Store) CreateUserToken(ctx context.Context, userID string, input NewUserToken) (UserToken, error) {
	publicID, err := newPublicID("tok_")
	if err != nil {
		return UserToken{}, err
	}

	var row userTokenRow
	err = s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		user, err := findUser(tx, "public_id", userID)
		if err != nil {
			return err
		}

		row = userTokenRow{
			PublicID:    publicID,
			UserID:      user.ID,
			Kind:        input.Kind,
			Name:        input.Name,
			TokenSHA256: input.SHA256,
			ExpiresAt:   input.ExpiresAt,
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create %s token of user %q: %w", input.Kind, userID, err)
		}
		return nil
	})
	if err != nil {
		return UserToken{}, err
	}
	return tokenFromRow(&row), nil
}

// ListUserTokens returns the user's unexpired tokens, oldest first.
func (s *Store) ListUserTokens(ctx context.Context, userID string) ([]UserToken, error) {
	var rows []userTokenRow
	err := s.reader.WithContext(ctx).
		Joins("JOIN users ON users.id = user_tokens.user_id").
		Where("users.public_id = ?", userID).
		Where("user_tokens.expires_at IS NULL OR user_tokens.expires_at > ?", time.Now().UTC()).
		Order("user_tokens.id").
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %q: %w", userID, err)
	}

	tokens := make([]UserToken, 0, len(rows))
	for i := range rows {
		tokens = append(tokens, tokenFromRow(&rows[i]))
	}
	return tokens, nil
}

// GetUserToken returns one token of the user, or a NotFoundError when the
// user has no token with the id.
func (s *Store) GetUserToken(ctx context.Context, userID, tokenID string) (UserToken, error) {
	row, err := findUserToken(s.reader.WithContext(ctx), userID, tokenID)
	if err != nil {
		return UserToken{}, err
	}
	return tokenFromRow(row), nil
}

// findUserToken looks the token up only among the user's own tokens.
func findUserToken(tx *gorm.DB, userID, tokenID string) (*userTokenRow, error) {
	var row userTokenRow
	result := tx.
		Joins("JOIN users ON users.id = user_tokens.user_id").
		Where("users.public_id = ? AND user_tokens.public_id = ?", userID, tokenID).
		Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read token %q of user %q: %w", tokenID, userID, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "token", Name: tokenID}
	}
	return &row, nil
}

// DeleteUserToken revokes one token of the user.
func (s *Store) DeleteUserToken(ctx context.Context, userID, tokenID string) error {
	return s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findUserToken(tx, userID, tokenID)
		if err != nil {
			return err
		}
		if err := tx.Delete(&userTokenRow{}, row.ID).Error; err != nil {
			return fmt.Errorf("delete token %q of user %q: %w", tokenID, userID, err)
		}
		return nil
	})
}

// AuthenticateToken returns the user and token id of the token whose
// SHA-256 is digest. A missing or expired token is a NotFoundError. It
// records the time of use, at most once per lastUsedPrecision.
// Web session tokens are not accepted here: AuthenticateWebSession reads
// them.
func (s *Store) AuthenticateToken(ctx context.Context, digest string) (User, string, error) {
	return s.authenticateToken(ctx, digest, "kind <> ?", accounts.KindWeb)
}

// AuthenticateWebSession is AuthenticateToken for the web UI's session
// tokens, and accepts no other kind.
func (s *Store) AuthenticateWebSession(ctx context.Context, digest string) (User, string, error) {
	return s.authenticateToken(ctx, digest, "kind = ?", accounts.KindWeb)
}

func (s *Store) authenticateToken(ctx context.Context, digest, kindClause string, kind string) (User, string, error) {
	var token userTokenRow
	db := s.reader.WithContext(ctx)
	result := db.Where("token_sha256 = ?", digest).Where(kindClause, kind).Limit(1).Find(&token)
	if result.Error != nil {
		return User{}, "", fmt.Errorf("read user token: %w", result.Error)
	}

	now := time.Now().UTC()
	if result.RowsAffected == 0 || (token.ExpiresAt != nil && !token.ExpiresAt.After(now)) {
		return User{}, "", &NotFoundError{Resource: "token", Name: "(secret)"}
	}

	var user userRow
	if err := db.Where("id = ?", token.UserID).Take(&user).Error; err != nil {
		return User{}, "", fmt.Errorf("read owner of token %q: %w", token.PublicID, err)
	}

	if token.LastUsedAt == nil || now.Sub(*token.LastUsedAt) > lastUsedPrecision {
		err := s.writer.WithContext(ctx).Model(&userTokenRow{}).Where("id = ?", token.ID).Update("last_used_at", now).Error
		if err != nil {
			return User{}, "", fmt.Errorf("record use of token %q: %w", token.PublicID, err)
		}
	}
	return userFromRow(&user), token.PublicID, nil
}
