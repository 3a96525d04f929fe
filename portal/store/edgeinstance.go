package store

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"portcullis.dev/tenants/config"
)

// NodeIDConflictWindow is how long the portal reports a node id conflict
// after two edge processes last took turns reporting the node id. It is
// five heartbeats at the edge's default interval of 2 s.
const NodeIDConflictWindow = 10 * time.Second

// AllInOneNodeID is the node id of the edge inside an all-in-one process,
// which records its state in the store directly. No separate edge may
// report it, so the two never overwrite each other's row.
const AllInOneNodeID = "all-in-one"

// MaxInstanceLength bounds EdgeReport.Instance.
const MaxInstanceLength = 64

var instancePattern = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// ValidateInstance checks an edge report's instance id.
func ValidateInstance(instance string) error {
	if len(instance) > MaxInstanceLength || !instancePattern.MatchString(instance) {
		return config.Invalid("instance", "instance must be at most %d letters, digits, '_' or '-'", MaxInstanceLength)
	}
	return nil
}

// instanceState is the record of the edge processes behind one node id: the
// instance of the last heartbeat, the one before it, when the instance last
// changed, and when it last changed back to the one before.
//
// A restarted edge changes the instance once. Two running edges with one
// node id take turns, so the instance soon changes back to the previous
// one; that is the conflict.
type instanceState struct {
	Instance          string
	PreviousInstance  string
	InstanceChangedAt *time.Time
	ConflictAt        *time.Time
}

// next returns the state after a heartbeat from instance at now. An edge
// that reports no instance leaves the state as it is.
func (st instanceState) next(instance string, now time.Time) instanceState {
	if instance == "" || instance == st.Instance {
		return st
	}

	next := instanceState{
		Instance:          instance,
		PreviousInstance:  st.Instance,
		InstanceChangedAt: &now,
		ConflictAt:        st.ConflictAt,
	}
	changedBack := st.Instance != "" && instance == st.PreviousInstance
	if changedBack && st.InstanceChangedAt != nil && now.Sub(*st.InstanceChangedAt) < NodeIDConflictWindow {
		next.ConflictAt = &now
	}
	return next
}

// conflict reports whether two processes took turns within
// NodeIDConflictWindow before now.
func (st instanceState) conflict(now time.Time) bool {
	return st.ConflictAt != nil && now.Sub(*st.ConflictAt) < NodeIDConflictWindow
}

// lastInstance reads the instance state of the node id, empty for a node
// the portal has not heard from.
func (s *Store) lastInstance(ctx context.Context, nodeID string) (instanceState, error) {
	var row edgeNodeRow
	err := s.writer.WithContext(ctx).
		Select("instance", "previous_instance", "instance_changed_at", "conflict_at").
		Where("node_id = ?", nodeID).Limit(1).Find(&row).Error
	if err != nil {
		return instanceState{}, fmt.Errorf("read instance of edge %q: %w", nodeID, err)
	}
	return row.Instances, nil
}
