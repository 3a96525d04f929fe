package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/clause"
)

// edgeTokenPrefix starts every edge enrollment token, so a leaked token is
// easy to recognise in a scan.
const edgeTokenPrefix = "pce_"

// edgeTokenRow is an edge enrollment token. Only its SHA-256 is stored.
type edgeTokenRow struct {
	ID          uint   `gorm:"primaryKey"`
	TokenSHA256 string `gorm:"column:token_sha256"`
	CreatedAt   time.Time
}

func (edgeTokenRow) TableName() string { return "edge_tokens" }

// edgeNodeRow is the last report of one edge node.
type edgeNodeRow struct {
	NodeID   string `gorm:"primaryKey"`
	Region   string
	TokenID  uint
	Position int64
	// Revisions is a JSON object of tenant slug to revision.
	Revisions string
	Healthy   bool
	Detail    string
	// Rejected is a JSON object of tenant slug to EdgeRejection, or empty.
	Rejected     string
	RegisteredAt time.Time
	LastSeenAt   time.Time
}

func (edgeNodeRow) TableName() string { return "edge_nodes" }

// EdgeReport is what an edge node sends when it registers and with each
// heartbeat.
type EdgeReport struct {
	NodeID string `json:"node_id"`
	Region string `json:"region"`
	// Position is the last change feed position the edge applied.
	Position int64 `json:"position"`
	// Revisions maps each tenant that the edge holds to the revision it
	// serves.
	Revisions map[string]int64 `json:"revisions"`
	Healthy   bool             `json:"healthy"`
	// Detail is a short health note, such as "portal unreachable".
	Detail string `json:"detail"`
	// PluginErrors counts the failed hook calls per plugin version, keyed
	// by name@version, since the edge started. Optional.
	PluginErrors map[string]int64 `json:"plugin_errors,omitempty"`
	// Rejected maps each tenant whose newest bundle failed to compile or
	// pre-flight on the edge to that revision and the reason. The edge
	// keeps serving an older revision meanwhile. Optional.
	Rejected map[string]EdgeRejection `json:"rejected,omitempty"`
}

// EdgeRejection is a tenant revision that an edge rejected.
type EdgeRejection struct {
	Revision int64 `json:"revision"`
	// Reason is one line of at most MaxRejectionReason characters.
	Reason string `json:"reason"`
}

// EdgeNode is an edge node as the portal last heard from it.
type EdgeNode struct {
	EdgeReport
	RegisteredAt time.Time `json:"registered_at"`
	LastSeenAt   time.Time `json:"last_seen_at"`
}

// CreateEdgeToken creates an edge enrollment token and returns it. Only its
// SHA-256 is stored, so the token cannot be shown again.
func (s *Store) CreateEdgeToken(ctx context.Context) (string, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("create edge token: %w", err)
	}
	token := edgeTokenPrefix + hex.EncodeToString(random[:])

	row := edgeTokenRow{TokenSHA256: hashToken(token)}
	if err := s.writer.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("create edge token: %w", err)
	}
	return token, nil
}

// EdgeTokenID returns the id of the edge token, or a NotFoundError for an
// unknown token. The error never contains the token.
func (s *Store) EdgeTokenID(ctx context.Context, token string) (uint, error) {
	var row edgeTokenRow
	result := s.reader.WithContext(ctx).Where("token_sha256 = ?", hashToken(token)).Limit(1).Find(&row)
	if result.Error != nil {
		return 0, fmt.Errorf("read edge token: %w", result.Error)
	}
	if result.RowsAffected == 0 {
		return 0, &NotFoundError{Resource: "edge token", Name: "(redacted)"}
	}
	return row.ID, nil
}

// RecordEdge stores the report of an edge node that authenticated with the
// token tokenID, replacing its previous report.
func (s *Store) RecordEdge(ctx context.Context, tokenID uint, report EdgeReport) error {
	revisions, err := json.Marshal(report.Revisions)
	if err != nil {
		return fmt.Errorf("encode revisions of edge %q: %w", report.NodeID, err)
	}
	rejected, err := encodeRejected(report.Rejected)
	if err != nil {
		return fmt.Errorf("encode rejected revisions of edge %q: %w", report.NodeID, err)
	}

	now := time.Now().UTC()
	row := edgeNodeRow{
		NodeID:       report.NodeID,
		Region:       report.Region,
		TokenID:      tokenID,
		Position:     report.Position,
		Revisions:    string(revisions),
		Healthy:      report.Healthy,
		Detail:       report.Detail,
		Rejected:     rejected,
		RegisteredAt: now,
		LastSeenAt:   now,
	}

	err = s.writer.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "node_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"region", "token_id", "position", "revisions", "healthy", "detail", "rejected", "last_seen_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("record edge %q: %w", report.NodeID, err)
	}
	return recordPluginErrors(s.writer.WithContext(ctx), report.NodeID, report.PluginErrors)
}

// ListEdges returns every edge node ordered by region and node id.
func (s *Store) ListEdges(ctx context.Context) ([]EdgeNode, error) {
	var rows []edgeNodeRow
	if err := s.reader.WithContext(ctx).Order("region, node_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list edges: %w", err)
	}

	nodes := make([]EdgeNode, 0, len(rows))
	for _, row := range rows {
		node := EdgeNode{
			EdgeReport: EdgeReport{
				NodeID:   row.NodeID,
				Region:   row.Region,
				Position: row.Position,
				Healthy:  row.Healthy,
				Detail:   row.Detail,
			},
			RegisteredAt: row.RegisteredAt,
			LastSeenAt:   row.LastSeenAt,
		}
		if err := json.Unmarshal([]byte(row.Revisions), &node.Revisions); err != nil {
			return nil, fmt.Errorf("decode revisions of edge %q: %w", row.NodeID, err)
		}
		if row.Rejected != "" {
			if err := json.Unmarshal([]byte(row.Rejected), &node.Rejected); err != nil {
				return nil, fmt.Errorf("decode rejected revisions of edge %q: %w", row.NodeID, err)
			}
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Limits of the rejected revisions in an edge report.
const (
	// MaxRejectedTenants caps the tenants in one report's rejected map,
	// as the edge keeps at most 1000.
	MaxRejectedTenants = 1000
	// MaxRejectionReason caps a rejection reason in characters.
	MaxRejectionReason = 300
)

// ValidateRejected checks the rejected map of an edge report.
func ValidateRejected(rejected map[string]EdgeRejection) error {
	if len(rejected) > MaxRejectedTenants {
		return fieldError("rejected", "rejected has %d entries, above the limit of %d", len(rejected), MaxRejectedTenants)
	}
	for tenant, rejection := range rejected {
		if tenant == "" || len(tenant) > 63 {
			return fieldError("rejected", "tenant %q is invalid: use a tenant slug of 1 to 63 characters", tenant)
		}
		if rejection.Revision <= 0 {
			return fieldError("rejected", "revision %d of tenant %q is invalid: use a positive revision", rejection.Revision, tenant)
		}
		if err := validateReason(tenant, rejection.Reason); err != nil {
			return err
		}
	}
	return nil
}

func validateReason(tenant, reason string) error {
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxRejectionReason {
		return fieldError("rejected", "reason of tenant %q is invalid: use valid UTF-8 of at most %d characters", tenant, MaxRejectionReason)
	}
	if strings.ContainsFunc(reason, unicode.IsControl) {
		return fieldError("rejected", "reason of tenant %q contains a line break or control character: send one line", tenant)
	}
	return nil
}

// encodeRejected returns the rejected map as JSON, or "" when it is empty.
func encodeRejected(rejected map[string]EdgeRejection) (string, error) {
	if len(rejected) == 0 {
		return "", nil
	}
	data, err := json.Marshal(rejected)
	return string(data), err
}
