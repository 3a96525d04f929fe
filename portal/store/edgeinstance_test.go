package store

import (
	"context"
	"testing"
	"time"
)

func TestInstanceStateTellsRestartFromTwins(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		name      string
		instances []string // one heartbeat per second
		want      bool
	}{
		{"one process", []string{"a", "a", "a"}, false},
		{"restart", []string{"a", "a", "b", "b", "b"}, false},
		{"two restarts", []string{"a", "b", "c", "c"}, false},
		{"two processes", []string{"a", "b", "a", "b"}, true},
		{"edge without instance", []string{"", "", ""}, false},
		{"old edge among new ones", []string{"a", "", "a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var state instanceState
			now := start
			for _, instance := range tt.instances {
				state = state.next(instance, now)
				now = now.Add(time.Second)
			}
			if got := state.conflict(now); got != tt.want {
				t.Errorf("conflict after %v = %v, want %v (state %+v)", tt.instances, got, tt.want, state)
			}
		})
	}
}

func TestInstanceConflictEndsAfterWindow(t *testing.T) {
	start := time.Unix(1000, 0)
	var state instanceState
	for i, instance := range []string{"a", "b", "a"} {
		state = state.next(instance, start.Add(time.Duration(i)*time.Second))
	}
	last := start.Add(2 * time.Second)
	if !state.conflict(last.Add(NodeIDConflictWindow - time.Second)) {
		t.Error("conflict ended before NodeIDConflictWindow passed")
	}
	if state.conflict(last.Add(NodeIDConflictWindow)) {
		t.Error("conflict still reported NodeIDConflictWindow after the last change back")
	}

	slow := instanceState{}.next("a", start)
	slow = slow.next("b", start.Add(time.Second))
	slow = slow.next("a", start.Add(time.Second+NodeIDConflictWindow))
	if slow.conflict(start.Add(time.Second + NodeIDConflictWindow)) {
		t.Error("a change back after NodeIDConflictWindow counted as a conflict")
	}
}

func TestRecordHeartbeatReportsNodeIDConflict(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			id := newEdgeTokenID(t, s)

			beat := func(node, instance string) bool {
				t.Helper()
				conflict, err := s.RecordHeartbeat(ctx, id, EdgeReport{NodeID: node, Region: "a", Healthy: true, Instance: instance})
				if err != nil {
					t.Fatalf("RecordHeartbeat(%s, %s): %v", node, instance, err)
				}
				return conflict
			}
			for _, instance := range []string{"old", "new", "new"} {
				if beat("restarted", instance) {
					t.Errorf("heartbeat of instance %q after a restart reported a conflict", instance)
				}
			}
			var conflicts []bool
			for _, instance := range []string{"x", "y", "x", "y"} {
				conflicts = append(conflicts, beat("twin", instance))
			}
			if conflicts[1] || !conflicts[2] || !conflicts[3] {
				t.Errorf("conflicts of heartbeats x, y, x, y = %v, want false, false, true, true", conflicts)
			}

			nodes, err := s.ListEdges(ctx)
			if err != nil {
				t.Fatalf("ListEdges: %v", err)
			}
			got := map[string]EdgeNode{}
			for _, node := range nodes {
				got[node.NodeID] = node
			}
			if twin := got["twin"]; !twin.NodeIDConflict || twin.Instance != "y" {
				t.Errorf("listed twin = conflict %v, instance %q; want true, y", twin.NodeIDConflict, twin.Instance)
			}
			if restarted := got["restarted"]; restarted.NodeIDConflict || restarted.Instance != "new" {
				t.Errorf("listed restarted = conflict %v, instance %q; want false, new", restarted.NodeIDConflict, restarted.Instance)
			}
		})
	}
}
