package edgenode

import (
	"strings"
	"testing"
)

func TestCheckRejectsReservedNodeID(t *testing.T) {
	cfg := Config{PortalURL: "http://127.0.0.1:1", EdgeToken: "pce_x", Region: "eu", NodeID: "all-in-one"}
	err := check(cfg)
	if err == nil || !strings.Contains(err.Error(), `--node-id "all-in-one" is reserved`) {
		t.Errorf("check(node id all-in-one) = %v, want the reserved node id named", err)
	}

	cfg.NodeID = "eu-1"
	if err := check(cfg); err != nil && strings.Contains(err.Error(), "--node-id") {
		t.Errorf("check(node id eu-1) = %v, want no node id error", err)
	}
}
