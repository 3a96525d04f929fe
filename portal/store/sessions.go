package store

import (
	"context"
	"fmt"
	"time"
)

// operatorSessionRow is a web session of the operator, kept by the SHA-256
// of its random session id.
type operatorSessionRow struct {
	ID            uint
	SessionSHA256 string `gorm:"column:session_sha256"`
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

func (operatorSessionRow) TableName() string { return "operator_sessions" }

// CreateOperatorSession stores the SHA-256 of a new operator session id,
// valid until expires. It also deletes the expired operator sessions.
func (s *Store) CreateOperatorSession(ctx context.Context, digest string, expires time.Time) error {
	db := s.writer.WithContext(ctx)

	if err := db.Where("expires_at <= ?", time.Now().UTC()).Delete(&operatorSessionRow{}).Error; err != nil {
		return fmt.Errorf("delete expired operator sessions: %w", err)
	}

	row := operatorSessionRow{SessionSHA256: digest, ExpiresAt: expires.UTC()}
	if err := db.Create(&row).Error; err != nil {
		return fmt.Errorf("create operator session: %w", err)
	}
	return nil
}

// CheckOperatorSession returns nil when an unexpired operator session has
// the SHA-256 digest, and a NotFoundError otherwise.
func (s *Store) CheckOperatorSession(ctx context.Context, digest string) error {
	var count int64
	err := s.reader.WithContext(ctx).Model(&operatorSessionRow{}).
		Where("session_sha256 = ? AND expires_at > ?", digest, time.Now().UTC()).
		Count(&count).Error
	if err != nil {
		return fmt.Errorf("read operator session: %w", err)
	}
	if count == 0 {
		return &NotFoundError{Resource: "operator session", Name: "(secret)"}
	}
	return nil
}

// DeleteOperatorSession ends the operator session with the SHA-256 digest.
// Deleting a missing session is not an error.
func (s *Store) DeleteOperatorSession(ctx context.Context, digest string) error {
	err := s.writer.WithContext(ctx).Where("session_sha256 = ?", digest).Delete(&operatorSessionRow{}).Error
	if err != nil {
		return fmt.Errorf("delete operator session: %w", err)
	}
	return nil
}
