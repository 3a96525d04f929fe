package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
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
	Instances    instanceState `gorm:"embedded"`
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
	// Instance is a random id that the edge process picks at start, at most
	// MaxInstanceLength letters, digits, '_' or '-'. Optional; without it
	// the portal cannot tell two processes with one node id apart.
	Instance string `json:"instance,omitempty"`
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
	// NodeIDConflict is true while two edge processes take turns reporting
	// this node id, and for NodeIDConflictWindow after they last did.
	NodeIDConflict bool `json:"node_id_conflict"`
}

// EdgeToken is an edge enrollment token without its secret, as
// GET /api/v1/edge-tokens lists it.
type EdgeToken struct {
	ID        uint      `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// Edges lists the node ids of the edge nodes whose latest heartbeat
	// used the token, in order.
	Edges []string `json:"edges"`
	// LastHeartbeatAt is the latest heartbeat of those nodes, or nil when
	// no node uses the token. The portal records no other use of a token,
	// and deleting a node drops its heartbeat from this.
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
}

// CreateEdgeToken creates an edge enrollment token and returns its record
// and the token. Only its SHA-256 is stored, so the token cannot be shown
// again.
func (s *Store) CreateEdgeToken(ctx context.Context) (EdgeToken, string, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return EdgeToken{}, "", fmt.Errorf("create edge token: %w", err)
	}
	token := edgeTokenPrefix + hex.EncodeToString(random[:])

	row := edgeTokenRow{TokenSHA256: hashToken(token)}
	if err := s.writer.WithContext(ctx).Create(&row).Error; err != nil {
		return EdgeToken{}, "", fmt.Errorf("create edge token: %w", err)
	}
	return EdgeToken{ID: row.ID, CreatedAt: row.CreatedAt.UTC(), Edges: []string{}}, token, nil
}

// ListEdgeTokens returns every edge token in id order, with the edge nodes
// that use it.
func (s *Store) ListEdgeTokens(ctx context.Context) ([]EdgeToken, error) {
	var (
		rows  []edgeTokenRow
		nodes []edgeNodeRow
	)
	err := s.read(ctx, func(tx *gorm.DB) error {
		if err := tx.Select("id, created_at").Order("id").Find(&rows).Error; err != nil {
			return err
		}
		return tx.Select("node_id, token_id, last_seen_at").Order("node_id").Find(&nodes).Error
	})
	if err != nil {
		return nil, fmt.Errorf("list edge tokens: %w", err)
	}

	tokens := make([]EdgeToken, 0, len(rows))
	byID := make(map[uint]*EdgeToken, len(rows))
	for _, row := range rows {
		tokens = append(tokens, EdgeToken{ID: row.ID, CreatedAt: row.CreatedAt.UTC(), Edges: []string{}})
	}
	for i := range tokens {
		byID[tokens[i].ID] = &tokens[i]
	}
	for _, node := range nodes {
		token := byID[node.TokenID]
		if token == nil {
			continue
		}
		token.Edges = append(token.Edges, node.NodeID)
		if seen := node.LastSeenAt.UTC(); token.LastHeartbeatAt == nil || seen.After(*token.LastHeartbeatAt) {
			token.LastHeartbeatAt = &seen
		}
	}
	return tokens, nil
}

// DeleteEdgeToken deletes the edge token with the id, so that requests
// with it get 401 from then on. The edge nodes that used it stay listed
// until they are deleted. It returns a NotFoundError for an unknown id.
func (s *Store) DeleteEdgeToken(ctx context.Context, id uint) error {
	result := s.writer.WithContext(ctx).Delete(&edgeTokenRow{}, id)
	if result.Error != nil {
		return fmt.Errorf("delete edge token %d: %w", id, result.Error)
	}
	if result.RowsAffected == 0 {
		return &NotFoundError{Resource: "edge token", Name: strconv.FormatUint(uint64(id), 10)}
	}
	return nil
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
// token of tokenID, as RecordHeartbeat does.
func (s *Store) RecordEdge(ctx context.Context, tokenID uint, report EdgeReport) error {
	_, err := s.RecordHeartbeat(ctx, tokenID, report)
	return err
}

// RecordHeartbeat stores the report of an edge node that authenticated with
// the token of tokenID, replacing its previous report, and reports whether
// another process reports the same node id (EdgeNode.NodeIDConflict).
func (s *Store) RecordHeartbeat(ctx context.Context, tokenID uint, report EdgeReport) (conflict bool, err error) {
	revisions, err := json.Marshal(report.Revisions)
	if err != nil {
		return false, fmt.Errorf("encode revisions of edge %q: %w", report.NodeID, err)
	}
	rejected, err := encodeRejected(report.Rejected)
	if err != nil {
		return false, fmt.Errorf("encode rejected revisions of edge %q: %w", report.NodeID, err)
	}
	// Two heartbeats of one node id at the same moment can both read the
	// old state; the conflict then shows one heartbeat later.
	last, err := s.lastInstance(ctx, report.NodeID)
	if err != nil {
		return false, err
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
		Instances:    last.next(report.Instance, now),
	}

	err = s.writer.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "node_id"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"region", "token_id", "position", "revisions", "healthy", "detail", "rejected", "last_seen_at",
			"instance", "previous_instance", "instance_changed_at", "conflict_at",
		}),
	}).Create(&row).Error
	if err != nil {
		return false, fmt.Errorf("record edge %q: %w", report.NodeID, err)
	}
	if err := recordPluginErrors(s.writer.WithContext(ctx), report.NodeID, report.PluginErrors); err != nil {
		return false, err
	}
	return row.Instances.conflict(now), nil
}

// ListEdges returns every edge node ordered by region and node id.
func (s *Store) ListEdges(ctx context.Context) ([]EdgeNode, error) {
	var rows []edgeNodeRow
	if err := s.reader.WithContext(ctx).Order("region, node_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list edges: %w", err)
	}

	nodes := make([]EdgeNode, 0, len(rows))
	for _, row := range rows {
		node, err := row.node()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

// GetEdge returns the edge node with the node id, or a NotFoundError.
func (s *Store) GetEdge(ctx context.Context, nodeID string) (EdgeNode, error) {
	var row edgeNodeRow
	result := s.reader.WithContext(ctx).Where("node_id = ?", nodeID).Limit(1).Find(&row)
	if result.Error != nil {
		return EdgeNode{}, fmt.Errorf("read edge %q: %w", nodeID, result.Error)
	}
	if result.RowsAffected == 0 {
		return EdgeNode{}, &NotFoundError{Resource: "edge node", Name: nodeID}
	}
	return row.node()
}

// DeleteEdge deletes the edge node with the node id, or returns a
// NotFoundError. A node that sends a heartbeat again is listed again. The
// plugin error counts that the node reported stay in the plugin stats.
func (s *Store) DeleteEdge(ctx context.Context, nodeID string) error {
	result := s.writer.WithContext(ctx).Where("node_id = ?", nodeID).Delete(&edgeNodeRow{})
	if result.Error != nil {
		return fmt.Errorf("delete edge %q: %w", nodeID, result.Error)
	}
	if result.RowsAffected == 0 {
		return &NotFoundError{Resource: "edge node", Name: nodeID}
	}
	return nil
}

// node decodes the row into an EdgeNode.
func (row edgeNodeRow) node() (EdgeNode, error) {
	node := EdgeNode{
		EdgeReport: EdgeReport{
			NodeID:   row.NodeID,
			Region:   row.Region,
			Position: row.Position,
			Healthy:  row.Healthy,
			Detail:   row.Detail,
			Instance: row.Instances.Instance,
		},
		RegisteredAt:   row.RegisteredAt,
		LastSeenAt:     row.LastSeenAt,
		NodeIDConflict: row.Instances.conflict(time.Now()),
	}
	if err := json.Unmarshal([]byte(row.Revisions), &node.Revisions); err != nil {
		return EdgeNode{}, fmt.Errorf("decode revisions of edge %q: %w", row.NodeID, err)
	}
	if row.Rejected != "" {
		if err := json.Unmarshal([]byte(row.Rejected), &node.Rejected); err != nil {
			return EdgeNode{}, fmt.Errorf("decode rejected revisions of edge %q: %w", row.NodeID, err)
		}
	}
	return node, nil
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
