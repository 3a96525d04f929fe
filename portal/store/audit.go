package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Page sizes of the audit log.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// auditEventRow is one change made through the API.
type auditEventRow struct {
	ID        uint
	Time      time.Time
	Tenant    string
	Actor     string
	ActorUser string
	Method    string
	Resource  string
	Status    int
	RequestID string
	// Before and After are redacted JSON, nil when there is no state.
	Before *string
	After  *string
}

func (auditEventRow) TableName() string { return "audit_events" }

// AuditEvent is one change made through the API: who made it, when, to
// what, and the resource's JSON before and after, with secrets redacted.
type AuditEvent struct {
	// ID orders the log. Pass the last ID read as the next page's "after".
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	// Tenant is the tenant's slug, empty for a change outside any tenant.
	Tenant string `json:"tenant"`
	// Actor is "operator" or the user's email.
	Actor string `json:"actor"`
	// ActorUser is the user's public id, empty for the operator.
	ActorUser string `json:"actor_user,omitempty"`
	Method    string `json:"method"`
	// Resource is the path of the changed resource.
	Resource  string          `json:"resource"`
	Status    int             `json:"status"`
	RequestID string          `json:"request_id"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
}

func optionalJSON(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	text := string(raw)
	return &text
}

func rawJSON(text *string) json.RawMessage {
	if text == nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(*text)
}

// AppendAudit adds an event to the audit log. The caller redacts secrets.
func (s *Store) AppendAudit(ctx context.Context, event AuditEvent) error {
	row := auditEventRow{
		Time:      time.Now().UTC(),
		Tenant:    event.Tenant,
		Actor:     event.Actor,
		ActorUser: event.ActorUser,
		Method:    event.Method,
		Resource:  event.Resource,
		Status:    event.Status,
		RequestID: event.RequestID,
		Before:    optionalJSON(event.Before),
		After:     optionalJSON(event.After),
	}
	if err := s.writer.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("append audit event for %s %q: %w", event.Method, event.Resource, err)
	}
	return nil
}

// AuditLog returns up to limit events with an id above after, oldest first,
// from the whole log. A limit outside 1..MaxAuditPage means
// DefaultAuditPage.
func (s *Store) AuditLog(ctx context.Context, after int64, limit int) ([]AuditEvent, error) {
	return listAudit(s.reader.WithContext(ctx), after, limit)
}

// TenantAuditLog returns the tenant's page of the audit log like AuditLog.
// It starts at the tenant's creation, so the log of an earlier tenant with
// the same slug stays hidden from the new tenant's members.
func (s *Store) TenantAuditLog(ctx context.Context, slug string, after int64, limit int) ([]AuditEvent, error) {
	var events []AuditEvent
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		events, err = listAudit(tx.Where("tenant = ? AND time >= ?", slug, tenant.CreatedAt), after, limit)
		return err
	})
	return events, err
}

func listAudit(query *gorm.DB, after int64, limit int) ([]AuditEvent, error) {
	if limit <= 0 || limit > MaxAuditPage {
		limit = DefaultAuditPage
	}

	var rows []auditEventRow
	if err := query.Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit events after %d: %w", after, err)
	}

	events := make([]AuditEvent, 0, len(rows))
	for _, row := range rows {
		events = append(events, AuditEvent{
			ID:        int64(row.ID),
			Time:      row.Time,
			Tenant:    row.Tenant,
			Actor:     row.Actor,
			ActorUser: row.ActorUser,
			Method:    row.Method,
			Resource:  row.Resource,
			Status:    row.Status,
			RequestID: row.RequestID,
			Before:    rawJSON(row.Before),
			After:     rawJSON(row.After),
		})
	}
	return events, nil
}
